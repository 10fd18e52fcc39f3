// Generated images at full size (`=s0`, else `=s2048-rj`): Google's image hosts redirect (lh3 gg-dl
// -> rd-gg-dl); each hop is followed here with only the auth cookies (the whole jar gets 403).

import { request as undiciRequest, type Dispatcher } from 'undici';
import { transportError } from '../../net/transport-errors.js';
import { ipBlocked, isSorryRedirect } from './errors.js';
import type { GeminiSession } from './session.js';

/** The auth cookies Google's image hosts accept. */
const IMAGE_COOKIES = /^(__Secure-[13]P(SID|SIDTS|SIDCC|APISID)|SID|HSID|SSID|APISID|SAPISID|SIDCC|NID)$/;

type Image = { status: number; type: string; body: Buffer };

export async function fetchImage(session: GeminiSession, url: string, signal?: AbortSignal): Promise<Image> {
  const sized = /=[sdw]\d|=s0/.test(url) ? [url] : [`${url}=s0`, `${url}=s2048-rj`];
  let last: Image = { status: 404, type: 'text/plain', body: Buffer.alloc(0) };
  for (const first of sized) {
    last = await followHops(session, first, signal);
    if (last.status === 200) return last;
  }
  return last;
}

async function followHops(session: GeminiSession, url: string, signal?: AbortSignal): Promise<Image> {
  const cookie = [...session.jar].filter(([name]) => IMAGE_COOKIES.test(name)).map(([name, value]) => `${name}=${value}`).join('; ');
  let target = url;
  for (let hop = 0; hop < 5; hop++) {
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(target, { method: 'GET', dispatcher: session.dispatcher, headers: { cookie }, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw transportError(error, 'Gemini image');
    }
    const location = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
    if (isSorryRedirect(res.statusCode, location) || res.statusCode === 429) {
      await res.body.dump();
      throw ipBlocked('image', res.statusCode);
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && location) {
      await res.body.dump();
      target = new URL(location, target).toString();
      continue;
    }
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? 'application/octet-stream'), body: Buffer.from(await res.body.arrayBuffer()) };
  }
  return { status: 508, type: 'text/plain', body: Buffer.alloc(0) };
}

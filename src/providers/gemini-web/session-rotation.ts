// Cookie rotation calls of a session. RotateCookies gets only __Secure-1PSID and __Secure-1PSIDTS
// (more cookies get 401); its answer may set a new __Secure-1PSIDTS and name the interval Google
// wants (`identity.hfcr`). Then the RotateCookiesPage call refreshes the SIDCC family, best effort.

import { fromHttpStatus } from './errors.js';
import type { GeminiSession } from './session.js';

/** The new __Secure-1PSIDTS if the answer set one. */
export async function rotateCookies(session: GeminiSession, signal?: AbortSignal): Promise<string | undefined> {
  const { accounts } = session.options.endpoints;
  const before = session.jar.get('__Secure-1PSIDTS');
  const res = await session.send('POST', `${accounts}/RotateCookies`, {
    signal,
    withCookies: false,
    body: '[000,"-0000000000000000000"]',
    headers: { 'content-type': 'application/json', origin: accounts, cookie: rotationCookies(session) },
  });
  if (res.status !== 200) throw fromHttpStatus(res.status, 'RotateCookies', res.body);
  session.absorb(res.setCookie);
  const interval = /"identity\.hfcr",\s*(\d+)/.exec(res.body)?.[1];
  if (interval) session.rotationIntervalS = Number(interval);
  await rotatePage(session, signal).catch(() => undefined);
  const after = session.jar.get('__Secure-1PSIDTS');
  return after !== before ? after : undefined;
}

function rotationCookies(session: GeminiSession): string {
  return `__Secure-1PSID=${session.jar.get('__Secure-1PSID') ?? ''}; __Secure-1PSIDTS=${session.jar.get('__Secure-1PSIDTS') ?? ''}`;
}

/** GET RotateCookiesPage, then POST [658, id]: refreshes SIDCC / __Secure-*PSIDCC. */
async function rotatePage(session: GeminiSession, signal?: AbortSignal): Promise<void> {
  const { accounts, gemini } = session.options.endpoints;
  const page = await session.send('GET', `${accounts}/RotateCookiesPage?og_pid=658&rot=3&origin=${encodeURIComponent(gemini)}&exp_id=0`, { signal });
  session.absorb(page.setCookie);
  const id = /init\('(-?\d+)',\s*658/.exec(page.body)?.[1];
  if (page.status !== 200 || !id) return;
  const res = await session.send('POST', `${accounts}/RotateCookies`, {
    signal,
    withCookies: false,
    body: JSON.stringify([658, id]),
    headers: { 'content-type': 'application/json', origin: accounts, cookie: rotationCookies(session) },
  });
  if (res.status === 200) session.absorb(res.setCookie);
}

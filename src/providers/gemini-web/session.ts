// One logged-in Gemini web session: cookie jar, page tokens, request counter, and the calls the
// protocol needs (preflight, /app token scrape, batchexecute, StreamGenerate, RotateCookies,
// upload). Failures are GeminiErrors; nothing here retries or waits on a lock, so a failed init can
// never deadlock the way the reference library does (protocol notes §6.1).

import { randomInt, randomUUID } from 'node:crypto';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { createDispatcher } from '../../net/dispatchers.js';
import { transportError } from '../../net/transport-errors.js';
import { fromAccountStatus, fromHttpStatus, GeminiError } from './errors.js';
import { FrameDecoder, type Part } from './frames.js';
import { readRpcAnswer } from './parse.js';

export interface Endpoints {
  gemini: string;
  accounts: string;
  upload: string;
  google: string;
}

export interface SessionOptions {
  endpoints: Endpoints;
  cookies: Record<string, string>;
  proxy?: string | undefined;
  language: string;
  connectTimeoutMs: number;
  /** Access token known from an earlier page load (the page often omits it now). */
  cachedAt?: string | undefined;
}

export interface DiscoveredModel {
  id: string;
  display: string;
}

export interface GenerateParams {
  prompt: string;
  files: Array<{ id: string; name: string }>;
  /** [cid, rid, rcid, null×6, context]; a new chat when empty. */
  metadata: unknown[] | undefined;
  modelHeaders: Record<string, string>;
  temporary: boolean;
}

const GENERATE_PATH = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';
const BATCH_PATH = '/_/BardChatUi/data/batchexecute';
const NEW_CHAT = ['', '', '', null, null, null, null, null, null, ''];
const FORM = 'application/x-www-form-urlencoded;charset=utf-8';

/** The account's capacity tail for model headers, from otAQ7b tier and capability flags (§1.6). */
export function capacityFrom(tiers: number[], capabilities: number[]): number {
  if (tiers.includes(22)) return 2;
  if (tiers.includes(21)) return 1;
  if (capabilities.includes(115)) return 4;
  if (tiers.includes(16) || capabilities.includes(106)) return 3;
  if (tiers.includes(8) || capabilities.includes(19)) return 2;
  return 1;
}

export class GeminiSession {
  readonly jar = new Map<string, string>();
  at: string | undefined;
  bl: string | undefined;
  fsid: string | undefined;
  hl: string;
  pushId = 'feeds/mcudyrk2a4khkz';
  accountStatus: number | undefined;
  models: DiscoveredModel[] = [];
  capacity = 1;
  private reqid = randomInt(10_000, 99_999);
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: SessionOptions) {
    for (const [name, value] of Object.entries(options.cookies)) this.jar.set(name, value);
    this.hl = options.language;
    this.at = options.cachedAt;
    this.dispatcher = createDispatcher({ proxy: options.proxy, connectTimeoutMs: options.connectTimeoutMs });
  }

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** Preflight, token page, account status and models. Throws a GeminiError when unusable. */
  async init(signal?: AbortSignal): Promise<void> {
    await this.preflight(signal);
    await this.loadPage(signal);
    await this.loadStatus(signal);
  }

  /** GET google.com: its cookies keep /app from answering 502. */
  async preflight(signal?: AbortSignal): Promise<number> {
    const pre = await this.send('GET', `${this.options.endpoints.google}/`, { signal });
    if (pre.status === 200) this.absorb(pre.setCookie);
    return pre.status;
  }

  /** otAQ7b: account status, models, capacity flags. */
  async loadStatus(signal?: AbortSignal): Promise<void> {
    const status = await this.rpc('otAQ7b', '[]', signal);
    const body = Array.isArray(status) ? status : [];
    this.accountStatus = typeof body[14] === 'number' ? body[14] : 1000;
    const rejected = fromAccountStatus(this.accountStatus);
    if (rejected) throw rejected;
    this.models = (Array.isArray(body[15]) ? body[15] : [])
      .filter((m): m is unknown[] => Array.isArray(m) && typeof m[0] === 'string')
      .map((m) => ({ id: m[0] as string, display: String(m[1] ?? '') }));
    const flags = (v: unknown) => (Array.isArray(v) ? v.filter((n): n is number => typeof n === 'number') : []);
    this.capacity = capacityFrom(flags(body[16]), flags(body[17]));
  }

  /** GET /app and scrape its globals; keeps the last good `at` when the page leaves it out. */
  async loadPage(signal?: AbortSignal): Promise<void> {
    let url = `${this.options.endpoints.gemini}/app`;
    for (let hop = 0; hop < 4; hop++) {
      const page = await this.send('GET', url, { signal, headers: { origin: this.options.endpoints.gemini, referer: `${this.options.endpoints.gemini}/` } });
      this.absorb(page.setCookie);
      if (page.status >= 300 && page.status < 400 && page.location) {
        if (/\/sorry\/|google_abuse/.test(page.location)) {
          throw new GeminiError('rate_limited', 'Gemini sent this IP to the "unusual traffic" captcha page', 'cooling', { code: 'ip_rate_limited' });
        }
        url = new URL(page.location, url).toString();
        continue;
      }
      if (page.status !== 200) throw fromHttpStatus(page.status, '/app', page.body);
      const html = page.body;
      const grab = (key: string) => new RegExp(`"${key}":\\s*"(.*?)"`).exec(html)?.[1];
      const found = { at: grab('SNlM0e'), bl: grab('cfb2h'), fsid: grab('FdrFJe'), hl: grab('TuX5cc'), push: grab('qKIAYe') };
      if (!found.at && !found.bl && !found.fsid && !found.hl && !found.push) {
        throw new GeminiError('upstream_unavailable', 'Gemini /app page has none of the expected tokens (the page format changed?)', 'none', { code: 'gemini_page_changed' });
      }
      if (found.at) this.at = found.at;
      if (found.bl) this.bl = found.bl;
      if (found.fsid) this.fsid = found.fsid;
      if (found.hl) this.hl = found.hl;
      if (found.push) this.pushId = found.push;
      return;
    }
    throw new GeminiError('upstream_unavailable', 'Gemini /app redirected too many times', 'expired', { code: 'cookies_expired' });
  }

  private query(extra: Record<string, string> = {}): string {
    const params = new URLSearchParams({ ...extra, hl: this.hl, _reqid: String(this.reqid), rt: 'c' });
    this.reqid += 100_000;
    if (this.bl) params.set('bl', this.bl);
    if (this.fsid) params.set('f.sid', this.fsid);
    return params.toString();
  }

  private form(freq: string): string {
    return new URLSearchParams({ at: this.at ?? 'None', 'f.req': freq }).toString();
  }

  /** One batchexecute call; the decoded body, or a GeminiError. */
  async rpc(rpcid: string, payload: string, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.options.endpoints.gemini}${BATCH_PATH}?${this.query({ rpcids: rpcid, 'source-path': '/app' })}`;
    const res = await this.send('POST', url, {
      signal,
      body: this.form(JSON.stringify([[[rpcid, payload, null, 'generic']]])),
      headers: {
        'content-type': FORM,
        'x-same-domain': '1',
        origin: this.options.endpoints.gemini,
        referer: `${this.options.endpoints.gemini}/`,
        'x-goog-ext-525001261-jspb': '[1,null,null,null,null,null,null,null,[4]]',
        'x-goog-ext-73010989-jspb': '[0]',
      },
    });
    this.absorb(res.setCookie);
    if (res.status !== 200) throw fromHttpStatus(res.status, `batchexecute ${rpcid}`, res.body);
    const decoder = new FrameDecoder();
    const parts = [...decoder.push(res.body), ...decoder.end()];
    const answer = readRpcAnswer(parts, rpcid);
    if (!answer) throw new GeminiError('upstream_unavailable', `Gemini batchexecute ${rpcid}: no answer`, 'none');
    if (answer.rejected !== undefined) {
      throw new GeminiError('upstream_unavailable', `Gemini batchexecute ${rpcid} rejected (${answer.rejected})`, answer.rejected === 7 ? 'expired' : 'none', { code: 'gemini_rejected' });
    }
    return answer.body;
  }

  /** StreamGenerate: the response parts as they arrive. HTTP failures throw before any part. */
  async *generate(params: GenerateParams, signal: AbortSignal, timeouts: { headersMs: number; idleMs: number }): AsyncIterable<Part> {
    const uuid = randomUUID().toUpperCase();
    const inner: unknown[] = new Array(69).fill(null);
    inner[0] = [params.prompt, 0, null, params.files.length ? params.files.map((f) => [[f.id], f.name]) : null, null, null, 0];
    inner[1] = [this.hl];
    inner[2] = params.metadata ?? NEW_CHAT;
    inner[6] = [1];
    inner[7] = 1;
    inner[10] = 1;
    inner[11] = 0;
    inner[17] = [[0]];
    inner[18] = 0;
    inner[27] = 1;
    inner[30] = [4];
    inner[41] = [1];
    if (params.temporary) inner[45] = 1;
    inner[53] = 0;
    inner[59] = uuid;
    inner[61] = [];
    inner[68] = 2;
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(`${this.options.endpoints.gemini}${GENERATE_PATH}?${this.query()}`, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.idleMs,
        headers: {
          'content-type': FORM,
          origin: this.options.endpoints.gemini,
          referer: `${this.options.endpoints.gemini}/`,
          'x-same-domain': '1',
          'x-goog-ext-525005358-jspb': JSON.stringify([uuid, 1]),
          ...params.modelHeaders,
          cookie: this.cookieHeader(),
        },
        body: this.form(JSON.stringify([null, JSON.stringify(inner)])),
      });
    } catch (error) {
      throw transportError(error, 'Gemini StreamGenerate');
    }
    this.absorb(response.headers['set-cookie']);
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '');
      throw fromHttpStatus(response.statusCode, 'StreamGenerate', text.slice(0, 2000));
    }
    const decoder = new FrameDecoder();
    try {
      for await (const chunk of response.body) {
        for (const part of decoder.push(chunk as Buffer)) yield part;
      }
    } catch (error) {
      if (signal.aborted) throw error;
      throw transportError(error, 'Gemini stream');
    }
    for (const part of decoder.end()) yield part;
  }

  /** POST RotateCookies; the new __Secure-1PSIDTS if the answer set one. */
  async rotate(signal?: AbortSignal): Promise<string | undefined> {
    const res = await this.send('POST', `${this.options.endpoints.accounts}/RotateCookies`, {
      signal,
      body: '[000,"-0000000000000000000"]',
      headers: { 'content-type': 'application/json', origin: this.options.endpoints.accounts },
    });
    if (res.status !== 200) throw fromHttpStatus(res.status, 'RotateCookies', res.body);
    const before = this.jar.get('__Secure-1PSIDTS');
    this.absorb(res.setCookie);
    const after = this.jar.get('__Secure-1PSIDTS');
    return after !== before ? after : undefined;
  }

  /** Multipart upload; the returned identifier goes into the message's file list. */
  async upload(name: string, mimeType: string, data: Buffer, signal?: AbortSignal): Promise<string> {
    const boundary = `----gw${randomUUID().replace(/-/g, '')}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name.replace(/"/g, '')}"\r\nContent-Type: ${mimeType}\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    // Session cookies are .google.com cookies: they do not go to the upload host.
    const res = await this.send('POST', `${this.options.endpoints.upload}/upload`, {
      signal,
      withCookies: false,
      body: Buffer.concat([head, data, tail]),
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        origin: this.options.endpoints.gemini,
        referer: `${this.options.endpoints.gemini}/`,
        'x-tenant-id': 'bard-storage',
        'push-id': this.pushId,
      },
    });
    if (res.status < 200 || res.status >= 300) throw fromHttpStatus(res.status, 'upload', res.body);
    return res.body.trim();
  }

  /** GET an image with the session's cookies (generated images need them). */
  async fetchBinary(url: string, signal?: AbortSignal): Promise<{ status: number; type: string; body: Buffer }> {
    try {
      const res = await undiciRequest(url, { method: 'GET', dispatcher: this.dispatcher, headers: { cookie: this.cookieHeader() }, ...(signal ? { signal } : {}) });
      return { status: res.statusCode, type: String(res.headers['content-type'] ?? 'application/octet-stream'), body: Buffer.from(await res.body.arrayBuffer()) };
    } catch (error) {
      throw transportError(error, 'Gemini image');
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Set-Cookie headers -> the jar (all Gemini cookies live on .google.com). */
  absorb(setCookie: string | string[] | undefined): void {
    if (!setCookie) return;
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const pair = line.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  private async send(
    method: 'GET' | 'POST',
    url: string,
    options: { signal?: AbortSignal | undefined; body?: string | Buffer; headers?: Record<string, string>; withCookies?: boolean },
  ): Promise<{ status: number; body: string; setCookie: string | string[] | undefined; location: string | undefined }> {
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(url, {
        method,
        dispatcher: this.dispatcher,
        headers: { ...options.headers, ...(options.withCookies === false ? {} : { cookie: this.cookieHeader() }) },
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
    } catch (error) {
      throw transportError(error, `Gemini ${new URL(url).pathname}`);
    }
    const body = await res.body.text();
    const location = res.headers.location;
    return { status: res.statusCode, body, setCookie: res.headers['set-cookie'], location: Array.isArray(location) ? location[0] : location };
  }
}

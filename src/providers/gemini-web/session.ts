// One logged-in Gemini web session: cookie jar, page tokens, request counter, and the calls the
// protocol needs (preflight, /app token scrape, batchexecute, StreamGenerate, RotateCookies,
// upload). Failures are GeminiErrors; nothing here retries or waits on a lock, so a failed init can
// never deadlock the way the reference library does (protocol notes §6.1).

import { createHash, randomInt, randomUUID } from 'node:crypto';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { createDispatcher } from '../../net/dispatchers.js';
import { transportError } from '../../net/transport-errors.js';
import { fromAccountStatus, fromHttpStatus, GeminiError, ipBlocked, isSorryRedirect } from './errors.js';
import { FrameDecoder, type Part } from './frames.js';
import { readRpcAnswer } from './parse.js';
import { fetchImage } from './session-images.js';
import { rotateCookies } from './session-rotation.js';
import { uploadFile } from './session-upload.js';

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
  /** The browser's N-th signed-in account (`/u/N`, X-Goog-AuthUser). */
  authUser?: number | undefined;
  /** A visitor without cookies: no access token, no account status (Google serves some Flash models). */
  guest?: boolean;
}

export interface DiscoveredModel {
  id: string;
  /** The versioned name ("3.1 Pro"), else the short category. */
  display: string;
  /** The short category ("Pro", "Fast", "Thinking"). */
  category: string;
  description: string;
  /** Model number (header idx14, payload [79]). */
  number: number;
}

/** The StreamGenerate payload as config data (`gemini.request`) and the values its placeholders take. */
export interface PayloadShape {
  length: number;
  slots: Record<string, unknown>;
  turn: number;
  number: number;
  thinking: number;
}

export interface GenerateParams {
  prompt: string;
  files: Array<{ id: string; name: string }>;
  /** [cid, rid, rcid, null×6, context]; a new chat when empty. */
  metadata: unknown[] | undefined;
  modelHeaders: Record<string, string>;
  temporary: boolean;
  shape: PayloadShape;
  /** Select the web app's image tool (inner[49] = 14, signed-in accounts only). */
  imageTool?: boolean;
}

const GENERATE_PATH = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';
const BATCH_PATH = '/_/BardChatUi/data/batchexecute';
const NEW_CHAT = ['', '', '', null, null, null, null, null, null, ''];
const FORM = 'application/x-www-form-urlencoded;charset=utf-8';

/** Fill "{turn}", "{number}", "{thinking}", "{uuid}" placeholders anywhere in a slot's JSON value. */
export function fillSlot(value: unknown, values: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const key = /^\{(\w+)\}$/.exec(value)?.[1];
    return key && key in values ? values[key] : value;
  }
  if (Array.isArray(value)) return value.map((v) => fillSlot(v, values));
  return value;
}

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
  /** When /app was last read (the build label's age). */
  pageLoadedAt: number | undefined;
  /** Whether the last /app read carried an access token itself (not only a cached one). */
  pageHadToken = false;
  /** One UUID per session for the model header (GA makes one per client). */
  readonly uuid = randomUUID().toUpperCase();
  private reqid = randomInt(10_000, 99_999);
  readonly dispatcher: Dispatcher;
  /** `https://gemini.google.com` or `…/u/N` for the browser's N-th account. */
  private readonly base: string;

  constructor(readonly options: SessionOptions) {
    for (const [name, value] of Object.entries(options.cookies)) this.jar.set(name, value);
    this.hl = options.language;
    this.at = options.cachedAt;
    this.base = options.authUser !== undefined ? `${options.endpoints.gemini}/u/${options.authUser}` : options.endpoints.gemini;
    this.dispatcher = createDispatcher({ proxy: options.proxy, connectTimeoutMs: options.connectTimeoutMs });
  }

  /** Headers every Gemini call carries: origin/referer, the account index, and SAPISIDHASH when a SAPISID cookie exists. */
  private pageHeaders(): Record<string, string> {
    const origin = this.options.endpoints.gemini;
    const headers: Record<string, string> = { origin, referer: `${this.base}/${this.options.authUser !== undefined ? 'app' : ''}` };
    if (this.options.authUser !== undefined) headers['x-goog-authuser'] = String(this.options.authUser);
    const sapisid = this.jar.get('SAPISID') ?? this.jar.get('__Secure-1PAPISID');
    if (sapisid) {
      const now = Math.floor(Date.now() / 1000);
      headers.authorization = `SAPISIDHASH ${now}_${createHash('sha1').update(`${now} ${sapisid} ${origin}`).digest('hex')}`;
    }
    return headers;
  }

  private sourcePath(): string {
    return this.options.authUser !== undefined ? `/u/${this.options.authUser}/app` : '/app';
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

  get guest(): boolean {
    return this.options.guest === true;
  }

  /** GET google.com: its cookies keep /app from answering 502. */
  async preflight(signal?: AbortSignal): Promise<number> {
    const pre = await this.send('GET', `${this.options.endpoints.google}/`, { signal });
    if (pre.status === 200) this.absorb(pre.setCookie);
    return pre.status;
  }

  /** otAQ7b: account status, models, capacity flags. A guest's status is 1016 by definition: not asked. */
  async loadStatus(signal?: AbortSignal): Promise<void> {
    if (this.guest) return;
    const status = await this.rpc('otAQ7b', '[]', signal);
    const body = Array.isArray(status) ? status : [];
    this.accountStatus = typeof body[14] === 'number' ? body[14] : 1000;
    const rejected = fromAccountStatus(this.accountStatus);
    if (rejected) throw rejected;
    this.models = (Array.isArray(body[15]) ? body[15] : []).filter((m): m is unknown[] => Array.isArray(m) && typeof m[0] === 'string').map(readModel);
    const flags = (v: unknown) => (Array.isArray(v) ? v.filter((n): n is number => typeof n === 'number') : []);
    this.capacity = capacityFrom(flags(body[16]), flags(body[17]));
  }

  /**
   * GET /app and scrape its globals; keeps the last good `at` when the page leaves it out. A page
   * with no access token and none known means Google sees a signed-out visitor: the cookies expired.
   */
  async loadPage(signal?: AbortSignal): Promise<void> {
    let url = `${this.base}/app`;
    for (let hop = 0; hop < 4; hop++) {
      const page = await this.send('GET', url, { signal, headers: this.pageHeaders() });
      this.absorb(page.setCookie);
      if (page.status >= 300 && page.status < 400 && page.location) {
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
      this.pageLoadedAt = Date.now();
      this.pageHadToken = Boolean(found.at);
      if (!this.at && !this.guest) throw new GeminiError('upstream_unavailable', 'Gemini /app shows a signed-out visitor (no access token): the cookies expired', 'expired', { code: 'cookies_expired' });
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

  /** The form body; `at` is left out when unknown (never the literal "None" the reference library sent). */
  private form(freq: string): string {
    return new URLSearchParams(this.at ? { at: this.at, 'f.req': freq } : { 'f.req': freq }).toString();
  }

  /** One batchexecute call; the decoded body, or a GeminiError. */
  async rpc(rpcid: string, payload: string, signal?: AbortSignal, sourcePath?: string): Promise<unknown> {
    const url = `${this.base}${BATCH_PATH}?${this.query({ rpcids: rpcid, 'source-path': sourcePath ?? this.sourcePath() })}`;
    const res = await this.send('POST', url, {
      signal,
      body: this.form(JSON.stringify([[[rpcid, payload, null, 'generic']]])),
      headers: {
        'content-type': FORM,
        'x-same-domain': '1',
        ...this.pageHeaders(),
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
    // The payload list is config data (`gemini.request`): a drift in Google's shape is a config edit.
    const { shape } = params;
    const inner: unknown[] = new Array(shape.length).fill(null);
    const values = { turn: shape.turn, number: shape.number, thinking: shape.thinking, uuid };
    for (const [slot, value] of Object.entries(shape.slots)) if (Number(slot) < shape.length) inner[Number(slot)] = fillSlot(value, values);
    inner[0] = [params.prompt, 0, null, params.files.length ? params.files.map((f) => [[f.id], f.name]) : null, null, null, 0];
    inner[1] = [this.hl];
    inner[2] = params.metadata ?? NEW_CHAT;
    if (params.temporary) inner[45] = 1;
    if (params.imageTool && inner.length > 49) inner[49] = 14;
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(`${this.base}${GENERATE_PATH}?${this.query()}`, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.idleMs,
        headers: {
          'content-type': FORM,
          ...this.pageHeaders(),
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
      const location = response.headers.location;
      if (isSorryRedirect(response.statusCode, Array.isArray(location) ? location[0] : location)) throw ipBlocked('StreamGenerate', response.statusCode);
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

  /** POST RotateCookies (+ RotateCookiesPage): the new __Secure-1PSIDTS, if any (session-rotation.ts). */
  rotate(signal?: AbortSignal): Promise<string | undefined> {
    return rotateCookies(this, signal);
  }

  /** Seconds between rotations Google asked for in its last RotateCookies answer. */
  rotationIntervalS: number | undefined;

  /** Upload a file; its identifier for the message's file list (session-upload.ts). */
  upload(name: string, mimeType: string, data: Buffer, signal?: AbortSignal): Promise<string> {
    return uploadFile(this, name, mimeType, data, signal);
  }

  /** A generated image at full size, through Google's redirects (session-images.ts). */
  fetchBinary(url: string, signal?: AbortSignal): Promise<{ status: number; type: string; body: Buffer }> {
    return fetchImage(this, url, signal);
  }

  /**
   * After a usage limit: when the quota windows reset (jSf9Qc, the web app's /usage page), as ms
   * since the epoch; undefined when Google does not say. Reads every [seconds, nanos] timestamp in
   * the answer and takes the soonest one in the future.
   */
  async quotaResetAt(signal?: AbortSignal): Promise<number | undefined> {
    const body = await this.rpc('jSf9Qc', '[]', signal, '/usage');
    const now = Date.now();
    let soonest: number | undefined;
    const walk = (value: unknown): void => {
      if (!Array.isArray(value)) return;
      if (value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number' && value[0] > 1_600_000_000 && value[0] < 4_000_000_000) {
        const at = value[0] * 1000;
        if (at > now && (soonest === undefined || at < soonest)) soonest = at;
        return;
      }
      for (const item of value) walk(item);
    };
    walk(body);
    return soonest;
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

  /** One HTTP call with the session's dispatcher (and cookies unless told not to); IP blocks throw. */
  async send(
    method: 'GET' | 'POST',
    url: string,
    options: { signal?: AbortSignal | undefined; body?: string | Buffer; headers?: Record<string, string>; withCookies?: boolean },
  ): Promise<{ status: number; body: string; setCookie: string | string[] | undefined; location: string | undefined; uploadUrl: string | undefined }> {
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
    const location = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
    // Google's "unusual traffic" answer, from whichever endpoint: the egress IP is blocked.
    if (res.statusCode === 429 || isSorryRedirect(res.statusCode, location)) throw ipBlocked(new URL(url).pathname, res.statusCode);
    const uploadUrl = res.headers['x-goog-upload-url'];
    return { status: res.statusCode, body, setCookie: res.headers['set-cookie'], location, uploadUrl: Array.isArray(uploadUrl) ? uploadUrl[0] : uploadUrl };
  }
}

/** One otAQ7b model entry, old layout ([0] id, [1] name) or the newer one ([11]/[19] versioned name, [12] description, [17] number). */
function readModel(m: unknown[]): DiscoveredModel {
  const text = (...indexes: number[]) => {
    for (const i of indexes) if (typeof m[i] === 'string' && m[i]) return m[i] as string;
    return '';
  };
  const int = (...indexes: number[]) => {
    for (const i of indexes) if (Number.isInteger(m[i])) return m[i] as number;
    return 1;
  };
  const category = text(1, 10);
  return { id: m[0] as string, display: text(11, 19) || category, category, description: text(12, 2), number: int(17, 9) };
}

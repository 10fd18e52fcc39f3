// A fake of the Gemini web app, built to shared/docs/gemini-web-protocol.md §7: preflight, the /app
// token page, the batchexecute router (otAQ7b, ESY5D, MaZiqc, hNvQHb), StreamGenerate with
// length-framed cumulative snapshots and in-band errors, RotateCookies and upload. One loopback
// listener serves all four hosts (the client's endpoints are configurable). Test code only.
// Late-2026 drift (shared/docs/gemini-web-2026h2.md), all opt-in or accept-both so the defaults above
// stay: build label rotation (405 on a stale bl), xsrf 400, IP blocks on every endpoint, prompt and
// attachment limits in UTF-8 bytes, 1155 empty answers, the served model at inner[39]/[42], silent
// guests (no PSID or an expired account), 12/17-element headers and 69/97-slot payloads, /u/N,
// SAPISIDHASH, resumable upload, gg-dl image hops, jSf9Qc quota, context token at [25] or [26],
// RotateCookiesPage, and the newer otAQ7b model layout. test/fakes/gemini-web-fake.test.ts shows each.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PSID = 'g.a000FakePsidValue0123456789abcdefghijklmnopqrstuvwxyz';
export const PSIDTS = 'sidts-FakePsidtsValue0123456789abcdefghij';
export const TOKEN = 'AJpMio_FakeAccessToken:1764201600000';
/** The build label (`bl`, page global cfb2h) the fake starts with. */
export const BUILD = 'boq_assistant-bard-web-server_20260401.00_p0';
const SESSION = '-4923853929101234567';

export const MODEL_IDS = { pro: '9d8ca3786ebdfbea', flash: 'fbb127bbb056c959', thinking: '5bf011840784117a', flashLite: 'cf41b0e0dd7d53e5', flash37: '56fdd199312815e2' };

/** The model reads at most this many UTF-8 bytes of a prompt; the rest is cut from the tail, silently. */
export const PROMPT_LIMIT_BYTES = 130_000;
/** The model reads at most this many bytes of all attached files together. */
export const ATTACHMENT_LIMIT_BYTES = 160_000;

/** One otAQ7b model entry (newer layout: [0] id, [1] category, [2] description, [11] display, [12] description, [17] number). */
export interface FakeModel {
  id: string;
  display: string;
  number: number;
  category: string;
  description?: string;
}

const FLASH_LITE: FakeModel = { id: MODEL_IDS.flashLite, display: '3.5 Flash-Lite', number: 6, category: 'Flash-Lite', description: 'Fastest, for everyday tasks' };
const FLASH_37: FakeModel = { id: MODEL_IDS.flash37, display: '3.7 Flash', number: 1, category: 'Fast', description: 'Answers quickly' };
/** Models a guest (no cookies, or an expired account) is served as asked; everything else becomes Flash-Lite. */
const GUEST_MODELS = new Set([MODEL_IDS.flash, MODEL_IDS.flashLite]);

/** The first `limit` UTF-8 bytes of `data`, never splitting a multi-byte character. */
function utf8Head(data: Buffer, limit: number): Buffer {
  if (data.length <= limit) return data;
  let end = limit;
  while (end > 0 && (data[end]! & 0xc0) === 0x80) end--;
  return data.subarray(0, end);
}

export interface Snapshot {
  text?: string;
  thoughts?: string;
}

/** A web source Gemini's answer used. */
export interface FakeSource {
  url: string;
  title: string;
  snippet?: string;
  siteName?: string;
}

/**
 * The answer used Google Search (shared/docs/gemini-web-2026h2.md §4). The early frames list the
 * "Google Search" tool at inner[2]["7"] (status 1, then 4), the final one at inner[11]. Layout A:
 * sources in cand[2] = [null, [chunk...]], each chunk quoting `quotes[i].quote` of the text (default:
 * one chunk per source quoting the first sentence); the text has no markers. Layout B: the text
 * carries `[cite: 1, 2]` markers (write them in `final.text`), resolved by cand[12][43] groups, or
 * the sparse cand[12][0]["44"] with `sparse`.
 */
export interface FakeSearch {
  layout: 'A' | 'B';
  sources: FakeSource[];
  quotes?: Array<{ quote: string; sources: number[] }>;
  sparse?: boolean;
  /** Leave out the tool markers (a search seen only in the final frame's sources). */
  noToolMarker?: boolean;
}

/** What StreamGenerate answers for one request. */
export type Reply =
  | {
      /** Non-final snapshots (cumulative), sent in order with `delayMs` between them. */
      snapshots?: Snapshot[];
      /** The final snapshot (status 2). Omit for a stream that ends without one ("silent abort"). */
      final?: Snapshot & { images?: Array<{ url: string; alt: string; generated?: boolean }>; cardText?: string; search?: FakeSearch };
      /** Extra candidates in the final frame (multi-candidate turn). */
      extraCandidates?: string[];
      delayMs?: number;
      /** Send the context token (inner[25]) even without a final snapshot. */
      contextWithoutFinal?: boolean;
      /** An error frame after the complete answer (the now-common 1096). */
      trailingError?: number;
      /** Stop writing after this many frames, keeping the socket open. */
      stallAfter?: number;
      /** Destroy the socket after this many frames. */
      resetAfter?: number;
      /** A bare status frame before content ("queueing"). */
      queueing?: boolean;
    }
  | { error: number; status?: number }
  /** 1155: HTTP 200 with no content frame, only BardErrorInfo 1155 (status 13) and the di/e frames. */
  | { empty: true }
  | { bare: number }
  | { http: number; body?: string; headers?: Record<string, string> };

export interface GenerateRequest {
  /** What the model reads: the prompt as sent, cut to PROMPT_LIMIT_BYTES UTF-8 bytes. */
  prompt: string;
  /** The prompt as sent, uncut. */
  sentPrompt: string;
  /** UTF-8 byte length of the prompt as sent. */
  promptBytes: number;
  /** Sum of the referenced uploads' sizes. */
  attachmentBytes: number;
  /** min(attachmentBytes, ATTACHMENT_LIMIT_BYTES): what the model reads of them. */
  readAttachmentBytes: number;
  /** The model id the reply was served with (inner[39] of the content frames). */
  servedModel: string;
  /** No `__Secure-1PSID` cookie, or the PSID of an `expired` account: answered as a guest. */
  guest: boolean;
  /** The request's cookies. */
  cookies: Record<string, string>;
  /** The parsed x-goog-ext-525001261-jspb header ([] when absent). */
  header: unknown[];
  /** header[14] (model number), null when absent. */
  modelNumber: number | null;
  /** header[15] (1 normal / 2 extended thinking), null when absent. */
  thinking: number | null;
  /** inner[17]: the turn index in the chat (the number, also when nested as [[n]]). */
  turnIndex: number | null;
  files: Array<{ id: string; name: string }>;
  metadata: unknown[];
  modelId: string | null;
  at: string;
  uuidHeader: string | null;
  uuidSlot: unknown;
  temporary: boolean;
  psid: string;
  inner: unknown[];
  /** `/u/<N>` path prefix, else the `x-goog-authuser` header, else null. */
  authUser: string | null;
  /** The `authorization` header (SAPISIDHASH …), null when absent. */
  authorization: string | null;
  /** When the answer's connection closed (ms, performance.now()): ended by the fake or by the gateway. */
  closedAt?: number;
}

interface Chat {
  model: string | null;
  turns: Array<{ rid: string; rcid: string; user: string; text: string }>;
}

function frame(value: unknown): string {
  const json = JSON.stringify(value);
  return `${json.length + 2}\n${json}\n`;
}

/** The 400 body Google sends for a wrong access token (the client should reload /app and retry once). */
export const XSRF_BODY = ")]}'\n\n[[\"er\",null,{\"reason\":\"xsrf\"}]]";

/** The Google auth cookies the image host accepts; any other cookie gets 403. */
const AUTH_COOKIE = /^(__Secure-[13]P(SID|SIDTS|SIDCC|APISID)|SID|HSID|SSID|APISID|SAPISID|SIDCC|NID)$/;

const wrb = (inner: unknown) => [['wrb.fr', null, JSON.stringify(inner)]];
const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);

/** A layout-A source entry: the URL with a text fragment, title, favicon, snippet, quote copy, site name. */
function sourceEntry(s: FakeSource, quote: unknown[]): unknown[] {
  return [`${s.url}#:~:text=${encodeURIComponent(String(quote[0]).slice(0, 20))}`, s.title, `https://www.google.com/s2/favicons?domain=${new URL(s.url).hostname}`, s.snippet ?? '', [quote], null, s.siteName ?? new URL(s.url).hostname, 9, ''];
}

function searchFields(c: unknown[], text: string, search: FakeSearch): void {
  if (search.layout === 'A') {
    const quotes = search.quotes ?? search.sources.map((_, i) => ({ quote: /^[^.!?\n]*[.!?]?/.exec(text)![0], sources: [i + 1] }));
    c[2] = [
      null,
      quotes.map(({ quote, sources }) => {
        const start = text.indexOf(quote);
        const q = [quote, null, null, [[Buffer.byteLength(text.slice(0, start)), Buffer.byteLength(text.slice(0, start + quote.length))], [start, start + quote.length]]];
        return [q, [1], sources.map((n) => sourceEntry(search.sources[n - 1]!, q)), `spp_${hex(8)}`];
      }),
    ];
    return;
  }
  const markers = [...new Set(text.match(/\[cite:\s*[\d,\s]*\]/g) ?? [])];
  const groups = markers.map((marker) => [
    [marker],
    marker
      .replace(/[^\d,]/g, '')
      .split(',')
      .filter(Boolean)
      .map((n) => {
        const s = search.sources[Number(n) - 1]!;
        return [null, null, null, [[`https://www.google.com/s2/favicons?domain=${new URL(s.url).hostname}`, s.url, s.title]]];
      }),
  ]);
  const media = (Array.isArray(c[12]) ? c[12] : [null, null]) as unknown[];
  if (search.sparse) media[0] = { '44': groups };
  else media[43] = groups;
  c[12] = media;
}

function candidate(rcid: string, text: string, thoughts: string | undefined, status: number, extra: { images?: Array<{ url: string; alt: string; generated?: boolean }>; cardText?: string; search?: FakeSearch } = {}): unknown[] {
  const c: unknown[] = [rcid, [text], null, null, null, null, null, null, [status], 'en'];
  if (extra.images?.length) {
    const web = extra.images.filter((i) => !i.generated).map((i) => [[[i.url], null, null, null, i.alt]]);
    const generated = extra.images.filter((i) => i.generated).map((i) => [[null, null, null, ['image/png', null, i.alt, i.url]], ['img_1']]);
    const media: unknown[] = [null, web.length ? web : null];
    if (generated.length) media[7] = [generated];
    c[12] = media;
  }
  if (extra.cardText) c[22] = [extra.cardText];
  if (thoughts !== undefined) c[37] = [[thoughts]];
  if (extra.search) searchFields(c, text, extra.search);
  return c;
}

export class FakeGemini {
  url = '';
  /** Valid cookies: PSID -> current PSIDTS (and the one before a rotation). `expired`: served as a guest, silently. */
  readonly accounts = new Map<string, { psidts: string; previous?: string; status: number; expired?: boolean }>([[PSID, { psidts: PSIDTS, status: 1000 }]]);
  /** The access token the page issues and StreamGenerate requires (change it to expire the old one). */
  token = TOKEN;
  /** Leave SNlM0e out of /app even for valid cookies (mid-2026 reality). */
  omitToken = false;
  appStatus: number | null = null;
  /** Answer batchexecute with this HTTP status (an init that fails). */
  batchStatus: number | null = null;
  /** RotateCookies behaviour. */
  rotation: 'new' | 'no-sidts' | 401 | 429 = 'new';
  /** Reject an old PSIDTS after rotation. */
  strictPsidts = false;
  /** Stored turns readable with hNvQHb, also for streams that ended without a final snapshot. */
  storeAborted: { afterPolls: number } | null = null;
  reply: (request: GenerateRequest, index: number) => Reply = () => ({ final: { text: 'Hello from fake Gemini' } });
  /** The current build label: /app serves it as cfb2h; StreamGenerate/batchexecute with another `bl` get 405. */
  build = BUILD;
  /** The account's model list (otAQ7b), also the display names of served models. */
  models: FakeModel[] = [
    { id: MODEL_IDS.flash, display: '3.6 Flash', number: 1, category: 'Fast', description: 'Answers quickly' },
    { id: MODEL_IDS.thinking, display: '3.6 Flash Thinking', number: 2, category: 'Thinking', description: 'Solves complex problems' },
    { id: MODEL_IDS.pro, display: '3.1 Pro', number: 3, category: 'Pro', description: 'Advanced math & code' },
    { ...FLASH_LITE },
  ];
  /** The account got 3.7 Flash (56fdd199312815e2, number 1) in its list. */
  flash37 = false;
  /** Epoch seconds when the 5-hour quota window resets (jSf9Qc; weekly = +7 days); null: jSf9Qc answers []. */
  quotaResetAt: number | null = null;
  /** Where the final frame puts the context token: inner[25] (GA) or inner[26] (zexa). */
  contextSlot: 25 | 26 = 25;
  /** RotateCookies answers 401 to a jar with any cookie besides __Secure-1PSID and __Secure-1PSIDTS. */
  strictRotationCookies = false;
  /** When true, StreamGenerate and batchexecute from a jar with SAPISID (or __Secure-1PAPISID) need a valid SAPISIDHASH, else 401. */
  requireSapisidHash = false;

  readonly generates: GenerateRequest[] = [];
  readonly rpcs: string[] = [];
  readonly uploads = new Map<string, { name: string; type: string; bytes: number; data: Buffer; uploadProtocol: 'multipart' | 'resumable' }>();
  readonly chats = new Map<string, Chat>();
  rotations = 0;
  /** RotateCookies calls with the RotateCookiesPage id ([658,"<pageId>"]) that refreshed the SIDCC family. */
  pageRotations = 0;
  /** The cookie names each RotateCookies call sent. */
  readonly rotateCookieNames: string[][] = [];
  /** Paths requested on /gg-dl/ and /rd-gg-dl/ (generated images at full size). */
  readonly imageHops: string[] = [];
  preflights = 0;
  appLoads = 0;
  /** Every request the fake received, on any endpoint (blocked ones included). */
  requestsServed = 0;
  /** Requests answered with the IP-block 302/429. */
  blockedAnswers = 0;
  /** Per request to /app, batchexecute and StreamGenerate: the `/u/<N>` or `x-goog-authuser` value, null when absent. */
  readonly authUsers: Array<string | null> = [];
  private polls = 0;
  private builds = 0;
  private blockState: { after: number; mode: 302 | 429; from: number } | null = null;
  private issuedGuest: { NID: string; COMPASS: string } | null = null;
  private readonly pageIds = new Set<string>();
  private readonly uploadSessions = new Map<string, { name: string; type: string; chunks: Buffer[] }>();
  private server!: Server;

  /** IP block: once `after` more requests have been served (0 = at once), every endpoint answers 302 to /sorry (or 429) until liftBlock(). */
  get block(): { after: number; mode: 302 | 429 } | null {
    return this.blockState ? { after: this.blockState.after, mode: this.blockState.mode } : null;
  }

  set block(value: { after: number; mode: 302 | 429 } | null) {
    this.blockState = value ? { after: value.after, mode: value.mode, from: this.requestsServed } : null;
  }

  liftBlock(): void {
    this.blockState = null;
  }

  /** A frontend rollout: a new build label (`boq_gemini-web-uiserver_<YYYYMMDD>.<NN>_p0`); requests with the old `bl` now get 405. */
  rotateBuild(): string {
    this.builds++;
    const day = new Date(Date.UTC(2026, 9, 1) + (this.builds - 1) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    this.build = `boq_gemini-web-uiserver_${day}.${String(this.builds % 100).padStart(2, '0')}_p0`;
    return this.build;
  }

  /** The NID/COMPASS values the last anonymous /app visit was given (null before any). */
  get guestCookies(): { NID: string; COMPASS: string } | null {
    return this.issuedGuest ? { ...this.issuedGuest } : null;
  }

  /** What the model reads of a request's attachments: the referenced uploads' bytes concatenated, cut to ATTACHMENT_LIMIT_BYTES. */
  attachmentText(request: GenerateRequest): string {
    const all = Buffer.concat(request.files.map((f) => this.uploads.get(f.id)?.data ?? Buffer.alloc(0)));
    return utf8Head(all, ATTACHMENT_LIMIT_BYTES).toString('utf8');
  }

  /** Where a generated image lives (use it as a `final.images` url with `generated: true`); append `=s0` for full size. */
  generatedImageUrl(id = 'img_1'): string {
    return `${this.url}/gg-dl/${id}`;
  }

  /** The models otAQ7b lists (with 3.7 Flash when `flash37`). */
  modelList(): FakeModel[] {
    if (!this.flash37 || this.models.some((m) => m.id === FLASH_37.id)) return this.models;
    const at = this.models.findIndex((m) => m.id === MODEL_IDS.flash);
    const list = [...this.models];
    list.splice(at + 1, 0, { ...FLASH_37 });
    return list;
  }

  private served(requested: string | null, guest: boolean): { id: string; display: string } {
    const list = this.modelList();
    let id = requested ?? (guest ? MODEL_IDS.flash : (list[0]?.id ?? MODEL_IDS.flash));
    if (guest && !GUEST_MODELS.has(id)) id = MODEL_IDS.flashLite;
    const display = list.find((m) => m.id === id)?.display ?? (id === FLASH_LITE.id ? FLASH_LITE.display : id);
    return { id, display };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private cookies(req: IncomingMessage): Record<string, string> {
    const out: Record<string, string> = {};
    for (const pair of String(req.headers.cookie ?? '').split(';')) {
      const i = pair.indexOf('=');
      if (i > 0) out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
    return out;
  }

  /** The PSID of a request whose cookies are valid, else undefined. */
  private validPsid(req: IncomingMessage): string | undefined {
    const c = this.cookies(req);
    const account = this.accounts.get(c['__Secure-1PSID'] ?? '');
    if (!account || account.expired) return undefined;
    const ts = c['__Secure-1PSIDTS'];
    if (ts === account.psidts || (!this.strictPsidts && ts === account.previous)) return c['__Secure-1PSID'];
    return undefined;
  }

  /** A guest: no __Secure-1PSID at all, or the PSID of an expired account (an unknown PSID is refused instead). */
  private isGuest(cookies: Record<string, string>): boolean {
    const psid = cookies['__Secure-1PSID'];
    return psid === undefined || this.accounts.get(psid)?.expired === true;
  }

  private async body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const served = this.requestsServed++;
    if (this.blockState && served - this.blockState.from >= this.blockState.after) return this.blocked(req, res, url);
    // Multi-login browsers address the N-th account as /u/<N>/… (only the Gemini pages and RPCs).
    const prefixed = /^\/u\/(\d+)(?=\/)/.exec(url.pathname);
    const unprefixed = prefixed ? url.pathname.slice(prefixed[0].length) : url.pathname;
    const gemini = unprefixed === '/app' || unprefixed === '/_/BardChatUi/data/batchexecute' || unprefixed.endsWith('/StreamGenerate');
    const path = gemini ? unprefixed : url.pathname;
    const header = req.headers['x-goog-authuser'];
    const authUser = prefixed?.[1] ?? (typeof header === 'string' ? header : null);
    if (gemini) this.authUsers.push(authUser);
    if (req.method === 'GET' && path === '/') {
      this.preflights++;
      res.writeHead(200, { 'set-cookie': 'NID=511=fakeNidCookie; Domain=.google.com; Path=/; Secure; HttpOnly', 'content-type': 'text/html' });
      return void res.end('<html></html>');
    }
    if (req.method === 'GET' && path === '/app') return this.app(req, res);
    if (path === '/_/BardChatUi/data/batchexecute') return this.batch(req, res, url);
    if (path.endsWith('/StreamGenerate')) return this.generate(req, res, url, authUser);
    if (path === '/RotateCookies') return this.rotate(req, res);
    if (req.method === 'GET' && path === '/RotateCookiesPage') return this.rotatePage(res, url);
    if (req.method === 'GET' && path.startsWith('/gg-dl/')) {
      // lh3.googleusercontent.com/gg-dl/… redirects to work.fife.usercontent.google.com/rd-gg-dl/…
      this.imageHops.push(path);
      res.writeHead(302, { location: `${this.url}/rd-gg-dl/${path.slice('/gg-dl/'.length)}` });
      return void res.end();
    }
    if (req.method === 'GET' && path.startsWith('/rd-gg-dl/')) {
      this.imageHops.push(path);
      const cookies = Object.keys(this.cookies(req));
      // Only a signed-in jar of Google auth cookies gets the image; any other cookie gets 403.
      if (!this.validPsid(req) || cookies.some((name) => !AUTH_COOKIE.test(name))) return void res.writeHead(403).end();
      const png = Buffer.from('89504e470d0a1a0a', 'hex');
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(Buffer.concat([png, Buffer.alloc(/=s0(-|$)/.test(path) ? 4096 : 16)]));
    }
    if (path === '/upload' || path === '/upload/') return this.upload(req, res);
    if (path.startsWith('/upload/session/')) return this.uploadSession(req, res, path.slice('/upload/session/'.length));
    if (path.startsWith('/img/')) {
      if (path.startsWith('/img/gen') && !this.validPsid(req)) return void res.writeHead(403).end();
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    }
    res.writeHead(404).end();
  }

  private blocked(req: IncomingMessage, res: ServerResponse, url: URL): void {
    req.resume();
    this.blockedAnswers++;
    if (this.blockState!.mode === 429) {
      res.writeHead(429, { 'content-type': 'text/html; charset=UTF-8' });
      return void res.end('<html><head><title>Sorry...</title></head><body><h1>Sorry...</h1><p>We\'re sorry... but your computer or network may be sending automated queries. Our systems have detected unusual traffic from your computer network.</p></body></html>');
    }
    const host = url.pathname === '/' ? 'www.google.com' : /Rotate/.test(url.pathname) ? 'accounts.google.com' : url.pathname.startsWith('/upload') ? 'content-push.googleapis.com' : /\/(img|gg-dl|rd-gg-dl)\//.test(url.pathname) ? 'lh3.googleusercontent.com' : 'gemini.google.com';
    const next = encodeURIComponent(`https://${host}${url.pathname}${url.search}`);
    res.writeHead(302, { location: `https://www.google.com/sorry/index?continue=${next}&q=${hex(32)}&google_abuse=GOOGLE_ABUSE_EXEMPTION`, 'content-type': 'text/html; charset=UTF-8' });
    res.end('<HTML><HEAD><TITLE>302 Moved</TITLE></HEAD><BODY>The document has moved.</BODY></HTML>');
  }

  /** A `bl` query parameter from an older build: the frontend answers 405. */
  private staleBuild(url: URL): boolean {
    const bl = url.searchParams.get('bl');
    return bl !== null && bl !== this.build;
  }

  /** SAPISIDHASH check (only when `requireSapisidHash` and the jar carries SAPISID or __Secure-1PAPISID). */
  private sapisidOk(req: IncomingMessage): boolean {
    if (!this.requireSapisidHash) return true;
    const c = this.cookies(req);
    const secrets = [c.SAPISID, c['__Secure-1PAPISID']].filter((v): v is string => !!v);
    if (secrets.length === 0) return true;
    const m = /SAPISIDHASH (\d+)_([0-9a-f]{40})/.exec(String(req.headers.authorization ?? ''));
    if (!m) return false;
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : this.url;
    return secrets.some((secret) => createHash('sha1').update(`${m[1]} ${secret} ${origin}`).digest('hex') === m[2]);
  }

  private app(req: IncomingMessage, res: ServerResponse): void {
    this.appLoads++;
    if (this.appStatus === 429) return void res.writeHead(429, { 'content-type': 'text/html' }).end('<html><body>Sorry... your computer or network may be sending automated queries.</body></html>');
    if (this.appStatus === 302) return void res.writeHead(302, { location: '/sorry/index?continue=https://gemini.google.com/app&google_abuse=GOOGLE_ABUSE_EXEMPTION' }).end();
    const valid = this.validPsid(req) !== undefined;
    const headers: Record<string, string | string[]> = { 'content-type': 'text/html; charset=utf-8' };
    const c = this.cookies(req);
    if (this.isGuest(c)) {
      // An anonymous visitor gets its own NID and COMPASS (multi-turn needs them back on every turn).
      const known = this.issuedGuest && c.NID === this.issuedGuest.NID && c.COMPASS === this.issuedGuest.COMPASS;
      if (!known) this.issuedGuest = { NID: `525=guest-${hex(32)}`, COMPASS: `gemini-web=${hex(32)}` };
      headers['set-cookie'] = [
        `NID=${this.issuedGuest!.NID}; expires=Sat, 01 May 2027 00:00:00 GMT; path=/; domain=.google.com; Secure; HttpOnly; SameSite=none`,
        `COMPASS=${this.issuedGuest!.COMPASS}; Path=/; Expires=Fri, 13 Nov 2026 00:00:00 GMT; Secure; HttpOnly; SameSite=none`,
      ];
    }
    const globals: Record<string, string> = { cfb2h: this.build, FdrFJe: SESSION, TuX5cc: 'en', qKIAYe: 'feeds/examplepushid' };
    if (valid && !this.omitToken) globals.SNlM0e = this.token;
    res.writeHead(200, headers);
    res.end(`<!doctype html><html><head><script>window.WIZ_global_data = ${JSON.stringify(globals)};</script></head><body></body></html>`);
  }

  private async form(req: IncomingMessage): Promise<URLSearchParams> {
    return new URLSearchParams((await this.body(req)).toString('utf8'));
  }

  private async batch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = await this.form(req);
    if (this.staleBuild(url)) return void res.writeHead(405).end();
    if (!this.sapisidOk(req)) return void res.writeHead(401).end();
    if (this.batchStatus) return void res.writeHead(this.batchStatus).end();
    const at = form.get('at');
    const psid = this.validPsid(req);
    let calls: unknown[];
    try {
      calls = (JSON.parse(form.get('f.req') ?? '') as unknown[][])[0] as unknown[];
    } catch {
      return void res.writeHead(400).end();
    }
    if (url.searchParams.get('rpcids') === null) return void res.writeHead(400).end();
    let out = ")]}'\n\n";
    for (const call of calls as unknown[][]) {
      const [rpcid, payload, , identifier] = call as [string, string, null, string];
      this.rpcs.push(rpcid);
      let body: unknown = [];
      if (rpcid === 'otAQ7b') {
        const status = psid && at === this.token ? (this.accounts.get(psid)?.status ?? 1000) : 1016;
        const status15 = this.modelList().map((m) => {
          const entry: unknown[] = new Array(18).fill(null);
          entry[0] = m.id;
          entry[1] = m.category;
          entry[2] = m.description ?? '';
          entry[11] = m.display;
          entry[12] = m.description ?? '';
          entry[17] = m.number;
          return entry;
        });
        const b: unknown[] = new Array(18).fill(null);
        b[14] = status;
        b[15] = status15;
        b[16] = [];
        b[17] = [];
        body = b;
      } else if (rpcid === 'hNvQHb') {
        if (!psid) {
          out += frame([['wrb.fr', rpcid, null, null, null, [7]]]);
          continue;
        }
        const cid = (JSON.parse(payload) as unknown[])[0] as string;
        this.polls++;
        const chat = this.chats.get(cid);
        const ready = this.storeAborted ? this.polls >= this.storeAborted.afterPolls : true;
        const turns = ready && chat ? [...chat.turns].reverse().map((t) => [[cid, t.rid], null, [[t.user]], [[candidate(t.rcid, t.text, undefined, 2)]]]) : [];
        body = [turns];
      } else if (rpcid === 'jSf9Qc') {
        const reset = this.quotaResetAt;
        body = reset === null ? [] : [null, [['five_hour', [reset, 0]], ['weekly', [reset + 7 * 86_400, 0]]]];
      } else if (rpcid === 'MaZiqc') {
        body = [null, null, [['c_1111111111111111', 'Earlier chat', null, null, null, [1764200000, 0]]]];
      }
      out += frame([['wrb.fr', rpcid, JSON.stringify(body), null, null, null, identifier ?? 'generic']]);
    }
    out += frame([['di', 64], ['af.httprm', 63, '-331952771254981234', 9]]) + frame([['e', 4, null, null, out.length]]);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(out);
  }

  private async generate(req: IncomingMessage, res: ServerResponse, url: URL, authUser: string | null): Promise<void> {
    const form = await this.form(req);
    if (this.staleBuild(url)) return void res.writeHead(405).end();
    if (!this.sapisidOk(req)) return void res.writeHead(401).end();
    const at = form.get('at') ?? '';
    const cookies = this.cookies(req);
    const guest = this.isGuest(cookies);
    const psid = this.validPsid(req);
    if (!guest) {
      // Signed-in requests need the page's token; a guest needs none (any or none accepted).
      if (!psid || !form.has('at')) return void res.writeHead(400, { 'content-type': 'text/html' }).end('<html>Bad Request</html>');
      // Signed in with a wrong token (a stale one, or the literal "None"): the xsrf marker.
      if (at !== this.token) return void res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end(XSRF_BODY);
    }
    let inner: unknown[];
    let header: unknown[] = [];
    let uuidHeaderValue: unknown[] | null = null;
    try {
      inner = JSON.parse((JSON.parse(form.get('f.req') ?? '') as unknown[])[1] as string) as unknown[];
      const modelHeader = req.headers['x-goog-ext-525001261-jspb'];
      if (typeof modelHeader === 'string') header = JSON.parse(modelHeader) as unknown[];
      const uuidHeader = req.headers['x-goog-ext-525005358-jspb'];
      if (typeof uuidHeader === 'string') uuidHeaderValue = JSON.parse(uuidHeader) as unknown[];
      if (!Array.isArray(inner) || !Array.isArray(inner[0]) || !Array.isArray(header)) throw new Error('shape');
    } catch {
      return void res.writeHead(400).end();
    }
    const message = inner[0] as unknown[];
    const files = ((message[3] as unknown[] | null) ?? []).map((f) => ({ id: String((f as unknown[][])[0]![0]), name: String((f as unknown[])[1]) }));
    const sent = String(message[0] ?? '');
    const sentBytes = Buffer.from(sent, 'utf8');
    const attachmentBytes = files.reduce((sum, f) => sum + (this.uploads.get(f.id)?.data.length ?? 0), 0);
    const modelId = typeof header[4] === 'string' ? header[4] : null;
    let turn: unknown = inner[17];
    while (Array.isArray(turn)) turn = turn[0];
    const request: GenerateRequest = {
      prompt: utf8Head(sentBytes, PROMPT_LIMIT_BYTES).toString('utf8'),
      sentPrompt: sent,
      promptBytes: sentBytes.length,
      attachmentBytes,
      readAttachmentBytes: Math.min(attachmentBytes, ATTACHMENT_LIMIT_BYTES),
      servedModel: this.served(modelId, guest).id,
      guest,
      cookies,
      header,
      modelNumber: typeof header[14] === 'number' ? header[14] : null,
      thinking: typeof header[15] === 'number' ? header[15] : null,
      turnIndex: typeof turn === 'number' ? turn : null,
      files,
      metadata: (inner[2] as unknown[]) ?? [],
      modelId,
      at,
      uuidHeader: uuidHeaderValue ? (uuidHeaderValue[0] as string) : null,
      uuidSlot: inner[59],
      temporary: inner[45] === 1,
      psid: psid ?? cookies['__Secure-1PSID'] ?? '',
      inner,
      authUser,
      authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : null,
    };
    const index = this.generates.push(request) - 1;
    res.once('close', () => (request.closedAt = performance.now()));
    for (const file of files) if (!this.uploads.has(file.id)) return void res.writeHead(400).end();

    const tail = [[['di', 95], ['af.httprm', 94, '7261894251703746112', 11]], [['e', 4, null, null, 220]]];
    const cidIn = String(request.metadata[0] ?? '');
    if (guest && cidIn) return this.write(res, [wrbError(1096, 13), ...tail]); // guests cannot continue a chat
    if (guest && files.length) return this.write(res, [wrbError(1100, 13), ...tail]); // nor read their uploads
    if (cidIn && this.chats.has(cidIn) && this.chats.get(cidIn)!.model !== request.modelId) {
      return this.write(res, [wrbError(1050, 9)]);
    }
    const reply = this.reply(request, index);
    if ('http' in reply) {
      res.writeHead(reply.http, { 'content-type': 'text/html', ...reply.headers });
      return void res.end(reply.body ?? '');
    }
    if ('error' in reply) return this.write(res, [wrbError(reply.error, reply.status ?? 9)]);
    if ('bare' in reply) return this.write(res, [[['wrb.fr', null, null, null, null, [reply.bare]]]]);
    if ('empty' in reply) return this.write(res, [wrbError(1155, 13), ...tail]);

    const served = this.served(modelId, guest);
    // Content frames say which model answered: inner[39] its id, inner[42] its display name.
    const content = (list: unknown[]): unknown[] => {
      list[39] = served.id;
      list[42] = served.display;
      return list;
    };
    const cid = cidIn || `c_${hex(16)}`;
    const rid = `r_${hex(16)}`;
    const rcid = `rc_${hex(16)}`;
    const chat = this.chats.get(cid) ?? { model: request.modelId, turns: [] };
    this.chats.set(cid, chat);
    const frames: unknown[] = [];
    if (reply.queueing) frames.push([['wrb.fr', null, null, null, null, [13]]]);
    const search = reply.final?.search && !reply.final.search.noToolMarker ? reply.final.search : undefined;
    // The "Google Search" tool entry of early frames: status 1 (searching), then 4 (done).
    const tool = (status: number) => [[null, 'Google Search', status]];
    frames.push(wrb([null, [null, rid], { '18': rid, '44': false, ...(search ? { '7': tool(1) } : {}) }]));
    if (search) frames.push(wrb([null, [null, rid], { '7': tool(4) }]));
    for (const s of reply.snapshots ?? []) frames.push(wrb(content([null, [cid, rid], null, null, [candidate(rcid, s.text ?? '', s.thoughts, 1)]])));
    if (reply.final) {
      const f = reply.final;
      const finalInner: unknown[] = [null, [cid, rid], null, null, [candidate(rcid, f.text ?? '', f.thoughts, 2, f), ...(reply.extraCandidates ?? []).map((t) => candidate(`rc_${hex(16)}`, t, undefined, 2))]];
      if (search) finalInner[11] = [['Google Search']];
      finalInner[this.contextSlot] = `!${randomBytes(12).toString('base64url')}`;
      finalInner[27] = [[[null, null, null, [1764201600, 250000000]]]];
      frames.push(wrb(content(finalInner)));
      chat.turns.push({ rid, rcid, user: request.prompt, text: f.text ?? '' });
      frames.push(wrb([null, [cid, rid], { '11': ['A title'], '44': true }]));
      if (reply.trailingError) frames.push(wrbError(reply.trailingError, 13));
    } else {
      if (reply.contextWithoutFinal) {
        const inner2: unknown[] = [null, [cid, rid], null, null, null];
        inner2[this.contextSlot] = `!${randomBytes(12).toString('base64url')}`;
        frames.push(wrb(inner2));
      }
      if (this.storeAborted) {
        const last = reply.snapshots?.at(-1)?.text ?? '';
        chat.turns.push({ rid, rcid: `rc_${hex(16)}`, user: request.prompt, text: `${last} (recovered)` });
      }
    }
    frames.push([['di', 312], ['af.httprm', 311, '-5523452188021934561', 18]]);
    frames.push([['e', 4, null, null, 1537]]);
    return this.write(res, frames, reply);
  }

  private async write(res: ServerResponse, frames: unknown[], options: { delayMs?: number; stallAfter?: number; resetAfter?: number } = {}): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.write(")]}'\n\n");
    for (let i = 0; i < frames.length; i++) {
      if (options.stallAfter !== undefined && i >= options.stallAfter) return; // keep the socket open
      if (options.resetAfter !== undefined && i >= options.resetAfter) return void res.socket?.destroy();
      if (res.destroyed) return;
      res.write(frame(frames[i]));
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    }
    res.end();
  }

  private async rotate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await this.body(req)).toString('utf8');
    this.rotateCookieNames.push(Object.keys(this.cookies(req)));
    let page: string | undefined;
    try {
      const parsed = JSON.parse(body) as unknown;
      if (Array.isArray(parsed) && parsed[0] === 658 && typeof parsed[1] === 'string') page = parsed[1];
    } catch {
      // the classic body ([000,"-0000000000000000000"]) is not JSON (leading zeros)
    }
    if (page === undefined) this.rotations++;
    const c = this.cookies(req);
    const account = this.accounts.get(c['__Secure-1PSID'] ?? '');
    if (!account || account.expired || this.rotation === 401) return void res.writeHead(401).end();
    if (this.strictRotationCookies && Object.keys(c).some((name) => name !== '__Secure-1PSID' && name !== '__Secure-1PSIDTS')) return void res.writeHead(401).end();
    if (this.rotation === 429) return void res.writeHead(429).end();
    const attributes = 'Domain=.google.com; Path=/; Expires=Fri, 27 Nov 2027 00:00:00 GMT; Secure; HttpOnly';
    if (page !== undefined) {
      // The RotateCookiesPage call: refreshes the SIDCC family, not PSIDTS.
      if (!this.pageIds.has(page)) return void res.writeHead(400).end();
      this.pageRotations++;
      const cookies = [`__Secure-1PSIDCC=cc1-${hex(16)}; ${attributes}; Priority=HIGH`, `__Secure-3PSIDCC=cc3-${hex(16)}; ${attributes}; SameSite=none; Priority=HIGH`, `SIDCC=cc-${hex(16)}; Domain=.google.com; Path=/; Expires=Fri, 27 Nov 2027 00:00:00 GMT; Priority=HIGH`];
      res.writeHead(200, { 'set-cookie': cookies, 'content-type': 'application/json' });
      return void res.end(")]}'\n\n[[\"identity.hfcr\",600]]");
    }
    const cookies = [`__Secure-1PSIDCC=cc-${hex(12)}; Domain=.google.com; Path=/; Secure; HttpOnly`];
    if (this.rotation === 'new') {
      account.previous = account.psidts;
      account.psidts = `sidts-rotated-${hex(20)}`;
      cookies.unshift(`__Secure-1PSIDTS=${account.psidts}; ${attributes}`);
    }
    res.writeHead(200, { 'set-cookie': cookies, 'content-type': 'application/json' });
    res.end(")]}'\n\n[[\"identity.hfcr\",600]]");
  }

  /** GET RotateCookiesPage?og_pid=658&rot=3&origin=…: a page whose init('<pageId>',658.0,1,null,600.0) names the id to POST back. */
  private rotatePage(res: ServerResponse, url: URL): void {
    if (url.searchParams.get('og_pid') !== '658') return void res.writeHead(400).end();
    const pageId = `-${BigInt.asUintN(62, BigInt(`0x${randomBytes(8).toString('hex')}`)).toString()}`;
    this.pageIds.add(pageId);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><script nonce="${hex(22)}">init('${pageId}',658.0,1,null,600.0);</script></head><body></body></html>`);
  }

  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.body(req);
    if (!req.headers['push-id'] || req.headers['x-tenant-id'] !== 'bard-storage') return void res.writeHead(400).end();
    if (req.headers['x-goog-upload-protocol'] === 'resumable') {
      // Step 1 of the two-step upload: open a session; the bytes go to x-goog-upload-url.
      if (String(req.headers['x-goog-upload-command'] ?? '').trim() !== 'start') return void res.writeHead(400).end();
      let name = '';
      try {
        const file = (JSON.parse(body.toString('utf8') || '{}') as { file?: { filename?: unknown } }).file;
        if (typeof file?.filename === 'string') name = file.filename;
      } catch {
        // not JSON: the name comes from the header
      }
      if (!name) name = decodeURIComponent(String(req.headers['x-goog-upload-file-name'] ?? ''));
      const type = String(req.headers['x-goog-upload-header-content-type'] ?? '');
      const session = hex(24);
      this.uploadSessions.set(session, { name, type, chunks: [] });
      res.writeHead(200, { 'x-goog-upload-url': `${this.url}/upload/session/${session}`, 'x-goog-upload-status': 'active', 'x-goog-upload-chunk-granularity': '262144', 'content-type': 'text/plain' });
      return void res.end();
    }
    const text = body.toString('latin1');
    const name = /filename="([^"]+)"/.exec(text)?.[1] ?? '';
    const type = /Content-Type: ([^\r\n]+)/i.exec(text)?.[1] ?? '';
    this.finishUpload(res, { name, type, data: multipartFile(body, String(req.headers['content-type'] ?? '')), uploadProtocol: 'multipart' });
  }

  /** Step 2 of the two-step upload: `upload` appends bytes, `finalize` answers the file id. */
  private async uploadSession(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = await this.body(req);
    const session = this.uploadSessions.get(id);
    if (!session) return void res.writeHead(404).end();
    const commands = String(req.headers['x-goog-upload-command'] ?? '').split(',').map((c) => c.trim());
    if (commands.includes('upload')) session.chunks.push(body);
    else if (!commands.includes('finalize') && !commands.includes('query')) return void res.writeHead(400).end();
    if (!commands.includes('finalize')) {
      const received = session.chunks.reduce((n, c) => n + c.length, 0);
      return void res.writeHead(200, { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(received) }).end();
    }
    this.uploadSessions.delete(id);
    this.finishUpload(res, { name: session.name, type: session.type, data: Buffer.concat(session.chunks), uploadProtocol: 'resumable' }, { 'x-goog-upload-status': 'final' });
  }

  private finishUpload(res: ServerResponse, file: { name: string; type: string; data: Buffer; uploadProtocol: 'multipart' | 'resumable' }, headers: Record<string, string> = {}): void {
    const id = `/contrib_service/ttl_1d/${Date.now()}${hex(16)}`;
    this.uploads.set(id, { ...file, bytes: file.data.length });
    res.writeHead(200, { 'content-type': 'text/plain', ...headers });
    res.end(id);
  }
}

/** The bytes of the multipart part named "file" (the whole body when it cannot be found). */
function multipartFile(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headEnd);
    if (/name="file"/.test(body.subarray(at, headEnd).toString('latin1'))) return body.subarray(headEnd + 4, next < 0 ? body.length : next);
    at = next < 0 ? -1 : next + 2;
  }
  return body;
}

function wrbError(code: number, status: number): unknown[] {
  return [['wrb.fr', null, null, null, null, [status, null, [['type.googleapis.com/assistant.boq.bard.application.BardErrorInfo', [code]]]]]];
}

export const newUuid = () => randomUUID().toUpperCase();

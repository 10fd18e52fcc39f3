// A fake of the Gemini web app, built to shared/docs/gemini-web-protocol.md §7: preflight, the /app
// token page, the batchexecute router (otAQ7b, ESY5D, MaZiqc, hNvQHb), StreamGenerate with
// length-framed cumulative snapshots and in-band errors, RotateCookies and upload. One loopback
// listener serves all four hosts (the client's endpoints are configurable). Test code only.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PSID = 'g.a000FakePsidValue0123456789abcdefghijklmnopqrstuvwxyz';
export const PSIDTS = 'sidts-FakePsidtsValue0123456789abcdefghij';
export const TOKEN = 'AJpMio_FakeAccessToken:1764201600000';
/** The build label (`bl`, page global cfb2h) the fake starts with. */
export const BUILD = 'boq_assistant-bard-web-server_20260401.00_p0';
const SESSION = '-4923853929101234567';

export const MODEL_IDS = { pro: '9d8ca3786ebdfbea', flash: 'fbb127bbb056c959', thinking: '5bf011840784117a' };

export interface Snapshot {
  text?: string;
  thoughts?: string;
}

/** What StreamGenerate answers for one request. */
export type Reply =
  | {
      /** Non-final snapshots (cumulative), sent in order with `delayMs` between them. */
      snapshots?: Snapshot[];
      /** The final snapshot (status 2). Omit for a stream that ends without one ("silent abort"). */
      final?: Snapshot & { images?: Array<{ url: string; alt: string; generated?: boolean }>; cardText?: string };
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
  | { bare: number }
  | { http: number; body?: string; headers?: Record<string, string> };

export interface GenerateRequest {
  prompt: string;
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

const wrb = (inner: unknown) => [['wrb.fr', null, JSON.stringify(inner)]];
const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);

function candidate(rcid: string, text: string, thoughts: string | undefined, status: number, extra: { images?: Array<{ url: string; alt: string; generated?: boolean }>; cardText?: string } = {}): unknown[] {
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
  return c;
}

export class FakeGemini {
  url = '';
  /** Valid cookies: PSID -> current PSIDTS (and the one before a rotation). */
  readonly accounts = new Map<string, { psidts: string; previous?: string; status: number }>([[PSID, { psidts: PSIDTS, status: 1000 }]]);
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
  /** When true, StreamGenerate and batchexecute from a jar with SAPISID (or __Secure-1PAPISID) need a valid SAPISIDHASH, else 401. */
  requireSapisidHash = false;

  readonly generates: GenerateRequest[] = [];
  readonly rpcs: string[] = [];
  readonly uploads = new Map<string, { name: string; type: string; bytes: number }>();
  readonly chats = new Map<string, Chat>();
  rotations = 0;
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
    if (!account) return undefined;
    const ts = c['__Secure-1PSIDTS'];
    if (ts === account.psidts || (!this.strictPsidts && ts === account.previous)) return c['__Secure-1PSID'];
    return undefined;
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
    if (path === '/upload') return this.upload(req, res);
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
    const globals: Record<string, string> = { cfb2h: this.build, FdrFJe: SESSION, TuX5cc: 'en', qKIAYe: 'feeds/examplepushid' };
    if (valid && !this.omitToken) globals.SNlM0e = this.token;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
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
        const status15 = [[MODEL_IDS.flash, 'Fast', 'Answers quickly'], [MODEL_IDS.thinking, 'Thinking', 'Solves complex problems'], [MODEL_IDS.pro, 'Pro', 'Advanced math & code']];
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
    const psid = this.validPsid(req);
    if (!psid || !form.has('at')) return void res.writeHead(400, { 'content-type': 'text/html' }).end('<html>Bad Request</html>');
    // Signed in with a wrong token (a stale one, or the literal "None"): the xsrf marker.
    if (at !== this.token) return void res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end(XSRF_BODY);
    let inner: unknown[];
    try {
      inner = JSON.parse((JSON.parse(form.get('f.req') ?? '') as unknown[])[1] as string) as unknown[];
    } catch {
      return void res.writeHead(400).end();
    }
    const message = inner[0] as unknown[];
    const files = ((message[3] as unknown[] | null) ?? []).map((f) => ({ id: String((f as unknown[][])[0]![0]), name: String((f as unknown[])[1]) }));
    const modelHeader = req.headers['x-goog-ext-525001261-jspb'];
    const uuidHeader = req.headers['x-goog-ext-525005358-jspb'];
    const request: GenerateRequest = {
      prompt: String(message[0] ?? ''),
      files,
      metadata: (inner[2] as unknown[]) ?? [],
      modelId: typeof modelHeader === 'string' ? ((JSON.parse(modelHeader) as unknown[])[4] as string) : null,
      at,
      uuidHeader: typeof uuidHeader === 'string' ? ((JSON.parse(uuidHeader) as unknown[])[0] as string) : null,
      uuidSlot: inner[59],
      temporary: inner[45] === 1,
      psid,
      inner,
      authUser,
      authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : null,
    };
    const index = this.generates.push(request) - 1;
    for (const file of files) if (!this.uploads.has(file.id)) return void res.writeHead(400).end();

    const cidIn = String(request.metadata[0] ?? '');
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

    const cid = cidIn || `c_${hex(16)}`;
    const rid = `r_${hex(16)}`;
    const rcid = `rc_${hex(16)}`;
    const chat = this.chats.get(cid) ?? { model: request.modelId, turns: [] };
    this.chats.set(cid, chat);
    const frames: unknown[] = [];
    if (reply.queueing) frames.push([['wrb.fr', null, null, null, null, [13]]]);
    frames.push(wrb([null, [null, rid], { '18': rid, '44': false }]));
    for (const s of reply.snapshots ?? []) frames.push(wrb([null, [cid, rid], null, null, [candidate(rcid, s.text ?? '', s.thoughts, 1)]]));
    if (reply.final) {
      const f = reply.final;
      const finalInner: unknown[] = [null, [cid, rid], null, null, [candidate(rcid, f.text ?? '', f.thoughts, 2, f), ...(reply.extraCandidates ?? []).map((t) => candidate(`rc_${hex(16)}`, t, undefined, 2))]];
      finalInner[25] = `!${randomBytes(12).toString('base64url')}`;
      finalInner[27] = [[[null, null, null, [1764201600, 250000000]]]];
      frames.push(wrb(finalInner));
      chat.turns.push({ rid, rcid, user: request.prompt, text: f.text ?? '' });
      frames.push(wrb([null, [cid, rid], { '11': ['A title'], '44': true }]));
      if (reply.trailingError) frames.push(wrbError(reply.trailingError, 13));
    } else {
      if (reply.contextWithoutFinal) {
        const inner2: unknown[] = [null, [cid, rid], null, null, null];
        inner2[25] = `!${randomBytes(12).toString('base64url')}`;
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

  private rotate(req: IncomingMessage, res: ServerResponse): void {
    this.rotations++;
    const c = this.cookies(req);
    const account = this.accounts.get(c['__Secure-1PSID'] ?? '');
    if (!account || this.rotation === 401) return void res.writeHead(401).end();
    if (this.rotation === 429) return void res.writeHead(429).end();
    const cookies = [`__Secure-1PSIDCC=cc-${hex(12)}; Domain=.google.com; Path=/; Secure; HttpOnly`];
    if (this.rotation === 'new') {
      account.previous = account.psidts;
      account.psidts = `sidts-rotated-${hex(20)}`;
      cookies.unshift(`__Secure-1PSIDTS=${account.psidts}; Domain=.google.com; Path=/; Expires=Fri, 27 Nov 2027 00:00:00 GMT; Secure; HttpOnly`);
    }
    res.writeHead(200, { 'set-cookie': cookies, 'content-type': 'application/json' });
    res.end(")]}'\n\n[[\"identity.hfcr\",600]]");
  }

  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.body(req);
    if (!req.headers['push-id'] || req.headers['x-tenant-id'] !== 'bard-storage') return void res.writeHead(400).end();
    const text = body.toString('latin1');
    const name = /filename="([^"]+)"/.exec(text)?.[1] ?? '';
    const type = /Content-Type: ([^\r\n]+)/i.exec(text)?.[1] ?? '';
    const id = `/contrib_service/ttl_1d/${Date.now()}${hex(16)}`;
    this.uploads.set(id, { name, type, bytes: body.length });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(id);
  }
}

function wrbError(code: number, status: number): unknown[] {
  return [['wrb.fr', null, null, null, null, [status, null, [['type.googleapis.com/assistant.boq.bard.application.BardErrorInfo', [code]]]]]];
}

export const newUuid = () => randomUUID().toUpperCase();

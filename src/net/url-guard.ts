// Fetching a URL a client chose (image and file parts) without letting the client reach what only
// the gateway can reach (SSRF, issue 14). Every hop is checked before it is fetched: http(s) only,
// no user:password@, no internal host names, and every address the name resolves to must be public
// (src/http/address.ts) unless `security.fetch_allow` lists it. The connection then goes to one of
// exactly those checked addresses (the Agent's lookup answers from them, never from DNS again), so
// a name cannot resolve to a public address for the check and a private one for the connect.
// Redirects are followed by hand, each hop checked again; the body is counted while it streams and
// the whole fetch has one deadline. Errors say "refused" or "could not be fetched" and never name
// the target, its addresses or the underlying error (the reason goes to `cause`, which is logged
// server-side only).

import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { GatewayError } from '../core/gateway-error.js';
import { blockedName, blockedReason, DEFAULT_POLICY, normalizeHostname, urlPolicy, type UrlPolicy } from './address.js';

export { urlPolicy, type UrlPolicy } from './address.js';

/** Resolves a host name to all its addresses (node:dns lookup with all: true by default). */
export type ResolveFn = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface FetchClientUrlOptions {
  /** The client's request signal: aborting it aborts the fetch (its reason is rethrown). */
  signal?: AbortSignal;
  /** Largest body accepted (bytes). */
  maxBytes: number;
  /** Deadline for the whole fetch: resolving, connecting, every redirect and the body (ms). */
  timeoutMs: number;
  /** What may be fetched beyond public addresses (security.fetch_allow); default nothing. */
  policy?: UrlPolicy;
  /** Redirects followed at most (each one checked again). Default 5. */
  maxRedirects?: number;
  /** The request field the URL came from, put on errors as `param`. */
  param?: string;
  /** Name resolution; tests inject one. Default: node:dns lookup, all addresses. */
  resolve?: ResolveFn;
}

export interface FetchedUrl {
  data: Buffer;
  /** The Content-Type without parameters, lower case; application/octet-stream when absent. */
  mimeType: string;
}

export const URL_ERROR_CODES = {
  /** Not http(s), user:password@ in it, an internal name or address, or a redirect to one. */
  refused: 'url_refused',
  /** Name not found, connection failed, not HTTP 200, too many redirects. */
  failed: 'url_fetch_failed',
  /** The deadline passed. */
  timeout: 'url_fetch_timeout',
  /** The body is larger than maxBytes. */
  tooLarge: 'url_too_large',
} as const;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The settings of a `security` config section as fetch options. */
export function fetchSecurityOptions(security: { fetch_allow: readonly string[]; fetch_timeout: number }): { policy: UrlPolicy; timeoutMs: number } {
  return { policy: urlPolicy(security.fetch_allow), timeoutMs: Math.round(security.fetch_timeout * 1000) };
}

const defaultResolve: ResolveFn = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Internal: why a fetch stopped (kept as `cause`, never shown to the client). */
class Stop extends Error {
  constructor(
    readonly code: (typeof URL_ERROR_CODES)[keyof typeof URL_ERROR_CODES],
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * GET a client-chosen http(s) URL under the SSRF policy. Throws GatewayError:
 * - invalid_request / url_refused: the URL or a redirect target is not allowed;
 * - invalid_request / url_fetch_failed: not found, unreachable, not HTTP 200, too many redirects;
 * - invalid_request / url_fetch_timeout: the deadline (timeoutMs) passed (not retryable on purpose:
 *   another attempt would fetch the same URL again);
 * - request_too_large / url_too_large: the body exceeds maxBytes.
 * When `signal` aborts, its reason is thrown instead.
 */
export async function fetchClientUrl(url: string, options: FetchClientUrlOptions): Promise<FetchedUrl> {
  const policy = options.policy ?? DEFAULT_POLICY;
  const resolve = options.resolve ?? defaultResolve;
  const maxRedirects = options.maxRedirects ?? 5;
  const controller = new AbortController();
  const deadline = new Stop(URL_ERROR_CODES.timeout, `no complete answer within ${options.timeoutMs} ms`);
  const timer = setTimeout(() => controller.abort(deadline), options.timeoutMs);
  const onAbort = () => controller.abort(options.signal!.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  // Host name -> the addresses checked for it; the Agent connects only to these.
  const vetted = new Map<string, LookupAddress[]>();
  const agent = new Agent({
    connect: { lookup: pinnedLookup(vetted), timeout: options.timeoutMs },
  });
  try {
    let current = url;
    for (let hop = 0; ; hop++) {
      const target = await check(current, policy, resolve, controller.signal);
      vetted.set(target.key, target.addresses);
      const res = await send(agent, target.url, controller.signal);
      if (REDIRECTS.has(res.statusCode)) {
        await res.body.dump().catch(() => undefined);
        const location = headerValue(res.headers.location);
        if (!location) throw new Stop(URL_ERROR_CODES.failed, `HTTP ${res.statusCode} without Location`);
        if (hop >= maxRedirects) throw new Stop(URL_ERROR_CODES.failed, `more than ${maxRedirects} redirects`);
        try {
          current = new URL(location, target.url).toString();
        } catch {
          throw new Stop(URL_ERROR_CODES.failed, 'redirect to an invalid URL');
        }
        continue;
      }
      if (res.statusCode !== 200) {
        await res.body.dump().catch(() => undefined);
        throw new Stop(URL_ERROR_CODES.failed, `HTTP ${res.statusCode}`);
      }
      const data = await readLimited(res, options.maxBytes);
      const type = headerValue(res.headers['content-type']);
      const mimeType = type?.split(';')[0]?.trim().toLowerCase() || 'application/octet-stream';
      return { data, mimeType };
    }
  } catch (error) {
    // The client went away: its reason, as for every other aborted request.
    if (options.signal?.aborted && controller.signal.reason === options.signal.reason) throw options.signal.reason;
    throw toGatewayError(controller.signal.reason === deadline ? deadline : error, options);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await agent.destroy().catch(() => undefined);
  }
}

function toGatewayError(error: unknown, options: FetchClientUrlOptions): GatewayError {
  const stop = error instanceof Stop ? error : new Stop(URL_ERROR_CODES.failed, 'transport error');
  const extra = { code: stop.code, cause: error, ...(options.param !== undefined ? { param: options.param } : {}) };
  switch (stop.code) {
    case URL_ERROR_CODES.refused:
      return new GatewayError('invalid_request', 'The URL was refused: only public http(s) addresses are fetched (security.fetch_allow lists exceptions)', extra);
    case URL_ERROR_CODES.timeout:
      return new GatewayError('invalid_request', `The URL could not be fetched within ${Math.round(options.timeoutMs / 100) / 10} s`, extra);
    case URL_ERROR_CODES.tooLarge:
      return new GatewayError('request_too_large', `The content at the URL is larger than ${options.maxBytes} bytes`, extra);
    default:
      return new GatewayError('invalid_request', 'The URL could not be fetched', extra);
  }
}

export type UrlTarget =
  | { kind: 'refused'; reason: string }
  | { kind: 'address'; url: URL; address: string; family: 4 | 6 }
  | { kind: 'name'; url: URL; name: string };

/**
 * What a URL would reach, before any DNS: refused outright (not http(s), credentials, no host), an
 * IP literal, or a host name. The host is read from the WHATWG-normalized URL: lower case,
 * punycode, IPv4 in dotted decimal (2130706433, 0x7f.1 and 0177.0.0.1 all read 127.0.0.1), IPv6
 * compressed. Addresses and names are not judged here.
 */
export function urlTarget(text: string): UrlTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: 'refused', reason: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'refused', reason: `scheme ${url.protocol}` };
  if (url.username !== '' || url.password !== '') return { kind: 'refused', reason: 'credentials in the URL' };
  const host = normalizeHostname(url.hostname);
  if (host === '') return { kind: 'refused', reason: 'no host' };
  const family = isIP(host);
  if (family === 4 || family === 6) return { kind: 'address', url, address: host, family };
  return { kind: 'name', url, name: host };
}

/** One checked hop: the URL, the key its host is pinned under, and the addresses allowed. */
async function check(text: string, policy: UrlPolicy, resolve: ResolveFn, signal: AbortSignal): Promise<{ url: URL; key: string; addresses: LookupAddress[] }> {
  const target = urlTarget(text);
  if (target.kind === 'refused') throw new Stop(URL_ERROR_CODES.refused, target.reason);
  if (target.kind === 'address') {
    const reason = policy.allowsAddress(target.address) ? undefined : blockedReason(target.address);
    if (reason) throw new Stop(URL_ERROR_CODES.refused, `${target.address}: ${reason}`);
    return { url: target.url, key: target.address, addresses: [{ address: target.address, family: target.family }] };
  }
  const { url, name: key } = target;
  const hostAllowed = policy.allowsHost(key);
  if (!hostAllowed && blockedName(key)) throw new Stop(URL_ERROR_CODES.refused, `${key}: internal name`);
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = await abortable(resolve(key), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Stop(URL_ERROR_CODES.failed, `${key}: not resolved`);
  }
  if (answers.length === 0) throw new Stop(URL_ERROR_CODES.failed, `${key}: no addresses`);
  const addresses: LookupAddress[] = [];
  for (const answer of answers) {
    const family = isIP(answer.address);
    // Every address is checked: one private answer refuses the name (no picking the public one).
    const reason = family === 0 ? 'not an IP address' : hostAllowed || policy.allowsAddress(answer.address) ? undefined : blockedReason(answer.address);
    if (reason) throw new Stop(URL_ERROR_CODES.refused, `${key} -> ${answer.address}: ${reason}`);
    addresses.push({ address: answer.address, family });
  }
  return { url, key, addresses };
}

/** An undici connect lookup that only ever answers with the checked addresses of a host. */
function pinnedLookup(vetted: Map<string, LookupAddress[]>): LookupFunction {
  return (hostname, options, callback) => {
    const requested = options.family as number | string | undefined;
    const family = requested === 'IPv4' ? 4 : requested === 'IPv6' ? 6 : Number(requested ?? 0);
    const addresses = (vetted.get(normalizeHostname(hostname)) ?? []).filter((a) => family !== 4 && family !== 6 ? true : a.family === family);
    if (addresses.length === 0) {
      const error: NodeJS.ErrnoException = Object.assign(new Error('address not checked'), { code: 'ENOTFOUND' });
      process.nextTick(() => callback(error, ''));
      return;
    }
    if (options.all) process.nextTick(() => callback(null, addresses));
    else process.nextTick(() => callback(null, addresses[0]!.address, addresses[0]!.family));
  };
}

async function send(agent: Dispatcher, url: URL, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  try {
    return await request(url, {
      method: 'GET',
      dispatcher: agent,
      signal,
      headers: { accept: '*/*', 'user-agent': 'gemini-gateway' },
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}

async function readLimited(res: Dispatcher.ResponseData, maxBytes: number): Promise<Buffer> {
  // Destroying the body below emits an abort error; the size error is what counts.
  res.body.on('error', () => undefined);
  const declared = Number(headerValue(res.headers['content-length']));
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    throw new Stop(URL_ERROR_CODES.tooLarge, `Content-Length ${declared}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.body.destroy();
      throw new Stop(URL_ERROR_CODES.tooLarge, `more than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

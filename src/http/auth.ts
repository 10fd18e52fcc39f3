// Token authentication: `Authorization: Bearer <t>` and `x-api-key: <t>` (Claude Code may send
// both, with different values; either matching is enough). Comparison is constant-time over
// SHA-256 digests, so neither the token's content nor its length leaks through timing.

import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../core/gateway-error.js';

export type Access = 'public' | 'client' | 'admin';

interface TokenEntry {
  name: string;
  digest: Buffer;
}

interface AuthIndex {
  client: TokenEntry[];
  admin: TokenEntry[];
  /** No client token configured: the gateway is open, which start-up allows on loopback only. */
  open: boolean;
}

const indexCache = new WeakMap<GatewayConfig['auth'], AuthIndex>();

/** One-shot `hash` (engines: Node >= 20.18): less than half the cost of a Hash object. */
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

// A keep-alive connection presents the same token on every request: its digest is kept per
// connection and reused when the token is the same. The check is itself constant-time (the token
// zero-padded to a fixed size, then timingSafeEqual), so a connection shared by several clients (a
// reverse proxy's) learns nothing about the token the previous request on it presented.
const PAD = 512;
const scratch = Buffer.alloc(PAD);
const byConnection = new WeakMap<object, Array<{ padded: Buffer; length: number; digest: Buffer }>>();

function connectionDigest(token: string, slot: number, connection: object | undefined): Buffer {
  if (!connection || token.length > PAD / 3) return digest(token); // a UTF-16 unit is at most 3 bytes of UTF-8: it fits
  scratch.fill(0);
  const length = scratch.write(token);
  const seen = byConnection.get(connection);
  const entry = seen?.[slot];
  if (entry) {
    const same = timingSafeEqual(entry.padded, scratch);
    if (same && entry.length === length) return entry.digest;
  }
  const fresh = { padded: Buffer.from(scratch), length, digest: digest(token) };
  if (seen) seen[slot] = fresh;
  else byConnection.set(connection, [fresh]);
  return fresh.digest;
}

export function clientTokens(auth: GatewayConfig['auth']): Array<{ name: string; token: string }> {
  const out: Array<{ name: string; token: string }> = [];
  if (auth.bearer_token) out.push({ name: 'default', token: auth.bearer_token });
  auth.tokens.forEach((entry, i) =>
    out.push(typeof entry === 'string' ? { name: `token-${i + 1}`, token: entry } : { name: entry.name, token: entry.token }),
  );
  return out;
}

function authIndex(auth: GatewayConfig['auth']): AuthIndex {
  let index = indexCache.get(auth);
  if (!index) {
    const client = clientTokens(auth).map(({ name, token }) => ({ name, digest: digest(token) }));
    const admin = auth.admin_token ? [{ name: 'admin', digest: digest(auth.admin_token) }] : client;
    index = { client, admin, open: client.length === 0 };
    indexCache.set(auth, index);
  }
  return index;
}

/** The tokens a request presents, in header order of preference. */
export function presentedTokens(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^\s*Bearer\s+(.+?)\s*$/i.exec(authorization);
    if (match) out.push(match[1]!);
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') out.push(apiKey.trim());
  return out;
}

/** Name of the first configured token that matches any presented one; checks all, no early exit. */
function match(entries: TokenEntry[], presented: Buffer[]): string | undefined {
  let found: string | undefined;
  for (const candidate of presented) {
    for (const entry of entries) {
      if (timingSafeEqual(entry.digest, candidate) && found === undefined) found = entry.name;
    }
  }
  return found;
}

export interface AuthOutcome {
  /** Which configured token matched ("default", a name from auth.tokens, "admin", or "open"). */
  tokenName: string;
}

/**
 * Throws a GatewayError (authentication / permission) when the request may not pass. `connection`
 * (the request's socket) lets a keep-alive connection skip hashing the token it presented before.
 */
export function authenticate(access: Access, headers: IncomingHttpHeaders, auth: GatewayConfig['auth'], connection?: object): AuthOutcome {
  if (access === 'public') return { tokenName: 'public' };
  const index = authIndex(auth);
  const entries = access === 'admin' ? index.admin : index.client;
  if (entries.length === 0) return { tokenName: 'open' };

  const presented = presentedTokens(headers);
  if (presented.length === 0) {
    throw new GatewayError('authentication', 'Missing API key: send "Authorization: Bearer <token>" or "x-api-key: <token>"', {
      code: 'invalid_api_key',
    });
  }
  const digests = presented.map((token, slot) => connectionDigest(token, slot, connection));
  const name = match(entries, digests);
  if (name !== undefined) return { tokenName: name };
  if (access === 'admin' && auth.admin_token && match(index.client, digests) !== undefined) {
    throw new GatewayError('permission', 'This endpoint needs the admin token (auth.admin_token)', { code: 'admin_token_required' });
  }
  throw new GatewayError('authentication', 'Invalid API key', { code: 'invalid_api_key' });
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** True when client routes would accept requests without any token. */
export function isOpen(auth: GatewayConfig['auth']): boolean {
  return authIndex(auth).open;
}

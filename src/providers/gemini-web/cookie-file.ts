// Gemini cookies in and out: the cookie file (spec format, written atomically with mode 0600 so a
// crash leaves the old or the new file, never a torn one) and every format users paste: that JSON,
// a raw `Cookie:` header, a Cookie-Editor JSON export, or a Netscape cookies.txt.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { GatewayError } from '../../core/gateway-error.js';

export const PSID = '__Secure-1PSID';
export const PSIDTS = '__Secure-1PSIDTS';

export interface CookieSet {
  /** Every cookie by name; PSID is required, PSIDTS optional (some accounts have none). */
  cookies: Record<string, string>;
  updatedAt?: string;
}

const invalid = (message: string) => new GatewayError('invalid_request', message, { code: 'invalid_cookies' });

/** Any supported format -> cookies. Every cookie given is kept (SAPISID for SAPISIDHASH, the SIDCC family, NID). */
export function parseCookieInput(input: unknown): CookieSet {
  if (typeof input === 'string') return parseText(input);
  if (Array.isArray(input)) return fromList(input);
  if (input && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    if (typeof o.cookies === 'string' || Array.isArray(o.cookies)) return parseCookieInput(o.cookies);
    const cookies: Record<string, string> = {};
    for (const [name, value] of Object.entries(o)) if (name !== 'updated_at' && typeof value === 'string' && /^[\w.-]+$/.test(name)) cookies[name] = value.trim();
    return check({ cookies, ...(typeof o.updated_at === 'string' ? { updatedAt: o.updated_at } : {}) });
  }
  throw invalid('Unrecognized cookie format: send the cookie JSON, a Cookie header, a Cookie-Editor export or a cookies.txt');
}

function parseText(text: string): CookieSet {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw invalid('The cookie text looks like JSON but does not parse');
    }
    return parseCookieInput(parsed);
  }
  const lines = trimmed.split(/\r?\n/);
  if (lines.some((l) => l.split('\t').length >= 7)) {
    // Netscape cookies.txt: domain, subdomains, path, secure, expiry, name, value.
    const cookies: Record<string, string> = {};
    for (const line of lines) {
      const clean = line.startsWith('#HttpOnly_') ? line.slice('#HttpOnly_'.length) : line;
      if (!clean || clean.startsWith('#')) continue;
      const fields = clean.split('\t');
      if (fields.length < 7) continue;
      if (!/google\.com$/i.test(fields[0]!.replace(/^\./, ''))) continue;
      cookies[fields[5]!] = fields[6]!.trim();
    }
    return check({ cookies });
  }
  const header = trimmed.replace(/^cookie:\s*/i, '');
  const cookies: Record<string, string> = {};
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) cookies[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return check({ cookies });
}

/** Cookie-Editor / browser export: [{name, value, domain, …}]. */
function fromList(list: unknown[]): CookieSet {
  const cookies: Record<string, string> = {};
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const { name, value, domain } = item as Record<string, unknown>;
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    if (typeof domain === 'string' && !/google\.com$/i.test(domain.replace(/^\./, ''))) continue;
    cookies[name] = value;
  }
  return check({ cookies });
}

function check(set: CookieSet): CookieSet {
  if (!set.cookies[PSID]) throw invalid(`No ${PSID} cookie found (copy it from gemini.google.com while logged in)`);
  return set;
}

export async function loadCookieFile(file: string): Promise<CookieSet | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseCookieInput(text);
}

/**
 * Write the spec format atomically: temp file (0600) in the same directory, then rename. The two
 * `__Secure-` cookies come first as the spec shows them; every other cookie follows (rotation
 * refreshes the SIDCC family too, and SAPISID signs requests).
 */
export async function saveCookieFile(file: string, set: CookieSet): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const body: Record<string, string> = { [PSID]: set.cookies[PSID] ?? '' };
  if (set.cookies[PSIDTS]) body[PSIDTS] = set.cookies[PSIDTS];
  for (const [name, value] of Object.entries(set.cookies)) if (!(name in body) && value) body[name] = value;
  body.updated_at = set.updatedAt ?? new Date().toISOString();
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

// Short-lived signed links for generated images. Gemini's generated-image URLs need the account's
// cookies, which clients do not have; the gateway serves them at /images/<token>. The token names
// the account and the URL, expires, and carries an HMAC so nobody can forge one.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class ImageLinks {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  sign(account: string, url: string, ttlMs: number): string {
    const payload = Buffer.from(JSON.stringify({ a: account, u: url, e: Date.now() + ttlMs })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The account and URL of a valid, unexpired token; undefined otherwise. */
  verify(token: string): { account: string; url: string } | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { a: string; u: string; e: number };
      return data.e >= Date.now() ? { account: data.a, url: data.u } : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

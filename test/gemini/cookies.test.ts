import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/gateway-error.js';
import { parseCookieInput } from '../../src/providers/gemini-web/cookie-file.js';

const PSID = 'g.a000abcdefghijklmnopqrstuvwxyz0123456789';
const TS = 'sidts-ABCDEFGHIJ0123456789';

describe('cookie input formats', () => {
  it('the spec JSON', () => {
    expect(parseCookieInput({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': TS, updated_at: '2026-01-31T14:30:00' })).toEqual({
      cookies: { '__Secure-1PSID': PSID, '__Secure-1PSIDTS': TS },
      updatedAt: '2026-01-31T14:30:00',
    });
  });

  it('a raw Cookie header, with or without the name', () => {
    for (const text of [`__Secure-1PSID=${PSID}; __Secure-1PSIDTS=${TS}; NID=1`, `Cookie: __Secure-1PSID=${PSID};__Secure-1PSIDTS=${TS}`]) {
      expect(parseCookieInput(text).cookies).toMatchObject({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': TS });
    }
  });

  it('a Cookie-Editor JSON export (other domains left out)', () => {
    const exported = JSON.stringify([
      { domain: '.google.com', name: '__Secure-1PSID', value: PSID, path: '/', secure: true },
      { domain: '.google.com', name: '__Secure-1PSIDTS', value: TS, path: '/' },
      { domain: 'example.com', name: 'other', value: 'x' },
    ]);
    expect(parseCookieInput(exported).cookies).toEqual({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': TS });
  });

  it('a Netscape cookies.txt', () => {
    const txt = ['# Netscape HTTP Cookie File', `.google.com\tTRUE\t/\tTRUE\t1827288825\t__Secure-1PSID\t${PSID}`, `#HttpOnly_.google.com\tTRUE\t/\tTRUE\t1827288825\t__Secure-1PSIDTS\t${TS}`, '.example.com\tTRUE\t/\tFALSE\t0\tx\ty'].join('\n');
    expect(parseCookieInput(txt).cookies).toEqual({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': TS });
  });

  it('rejects input without __Secure-1PSID with a clear message', () => {
    expect(() => parseCookieInput('NID=1; SID=2')).toThrow(GatewayError);
    expect(() => parseCookieInput('{"broken": ')).toThrow(/does not parse/);
    expect(() => parseCookieInput(42)).toThrow(/Unrecognized cookie format/);
  });
});

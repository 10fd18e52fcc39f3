// Shared by the Gemini tests: the cookie file a test account starts with, and the config lines that
// point every Google host at the fake.
import { PSID, PSIDTS } from '../fakes/gemini-web.js';

/** The cookie file's JSON: the fake's valid cookies by default, plus any extra cookies. */
export function cookieJson(psid = PSID, extra: Record<string, string> = {}): string {
  return JSON.stringify({ '__Secure-1PSID': psid, '__Secure-1PSIDTS': PSIDTS, ...extra, updated_at: '2026-11-01T00:00:00Z' });
}

/** `gemini.endpoints` (indented under `gemini:`) with every host at the fake's URL. */
export function endpointsYaml(url: string): string {
  return `  endpoints:\n    gemini: ${url}\n    accounts: ${url}\n    upload: ${url}\n    google: ${url}\n`;
}

// Shared by the Gemini tests: the cookie file a test account starts with, and the config lines that
// point every Google host at the fake.
import { PSID, PSIDTS, type Reply } from '../fakes/gemini-web.js';

/** The cookie file's JSON: the fake's valid cookies by default, plus any extra cookies. */
export function cookieJson(psid = PSID, extra: Record<string, string> = {}): string {
  return JSON.stringify({ '__Secure-1PSID': psid, '__Secure-1PSIDTS': PSIDTS, ...extra, updated_at: '2026-11-01T00:00:00Z' });
}

/** `gemini.endpoints` (indented under `gemini:`) with every host at the fake's URL. */
export function endpointsYaml(url: string): string {
  return `  endpoints:\n    gemini: ${url}\n    accounts: ${url}\n    upload: ${url}\n    google: ${url}\n`;
}

/**
 * A `gemini:` block for load and memory runs against the fake: its models, no cookie refresh, and a
 * new chat per request (so no run depends on an earlier answer).
 */
export function loadRunGeminiYaml(cookiePath: string, url: string, models = ['gemini-3-flash']): string {
  return `gemini:\n  cookie_path: ${cookiePath}\n  models: [${models.join(', ')}]\n  auto_refresh: false\n  conversations:\n    reuse: false\n${endpointsYaml(url)}`;
}

/** A short answer in two snapshots and a final frame: the load and memory runs' Gemini reply. */
export const SHORT_GEMINI_ANSWER: Reply = { snapshots: [{ text: 'Hello' }, { text: 'Hello from' }], final: { text: 'Hello from the fake Gemini, with a few more words to count.' } };

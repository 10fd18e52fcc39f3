// Bad input on every endpoint: generated bodies (fast-check), mutations of real client requests
// (wrong types at every field, missing fields) and a corpus of nasties (truncated and deeply nested
// JSON, invalid UTF-8, huge bodies, wrong content types, header injection). Every answer must be a
// client error (or a success) in the endpoint's own envelope: never a 5xx, a crash or a hang.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFor, type TestApp } from './helpers/app.js';
import { ScriptedProvider, registryWith, scripts } from './helpers/scripted-provider.js';

const CLIENT = 'fuzz-client-token-000000';
const auth = { authorization: `Bearer ${CLIENT}` };
let t: TestApp;
let cases = 0;

const POSTS = ['/v1/chat/completions', '/v1/responses', '/v1/messages', '/v1/messages/count_tokens', '/admin/logging', '/admin/cookies', '/admin/cookies/check', '/admin/config/reload', '/admin/cookies/rotate'];
const GETS = ['/v1/models', '/v1/claude/models', '/admin/config', '/admin/logging', '/admin/requests', '/admin/routes', '/admin/cookies/status', '/health', '/ready', '/metrics', '/images/x.y'];

beforeAll(async () => {
  const provider = new ScriptedProvider('g4f');
  provider.script = scripts.text();
  t = await appFor(`auth:\n  bearer_token: ${CLIENT}\nserver:\n  body_limit: 64 KB\ngemini:\n  enabled: false\ng4f:\n  models: ["*"]\n  fallback:\n    enabled: false\n`, { providers: registryWith(provider) });
});
afterAll(async () => {
  // eslint-disable-next-line no-console
  console.log(`fuzz: ${cases} requests, none answered with a 5xx`);
  await t.app.close();
});

/** Send and check: below 500, JSON in the route's own error envelope, within the time limit. */
async function check(method: 'GET' | 'POST', url: string, payload: string | Buffer | undefined, headers: Record<string, string> = {}): Promise<void> {
  cases++;
  const res = await t.app.inject({ method, url, headers: { ...auth, ...headers }, ...(payload !== undefined ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url} ${String(payload).slice(0, 120)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    const body = res.json() as { type?: string; error?: { type?: string; message?: string } };
    if (url.startsWith('/v1/messages') || url.startsWith('/v1/claude')) expect(body.type).toBe('error');
    expect(typeof body.error?.message).toBe('string');
  }
}

const seeds: Record<string, unknown> = {
  '/v1/chat/completions': JSON.parse(readFileSync('test/fixtures/clients/sdk_openai_6.49.0_chat_stream.json', 'utf8')).body,
  '/v1/responses': JSON.parse(readFileSync('test/fixtures/clients/codex_02_responses_function_call_output.json', 'utf8')).body,
  '/v1/messages': JSON.parse(readFileSync('test/fixtures/clients/claude-code_03_messages_thinking_and_write_followup.json', 'utf8')).body,
  '/v1/messages/count_tokens': JSON.parse(readFileSync('test/fixtures/clients/claude-code_06_count_tokens.json', 'utf8')).body,
};

/** Every path to a value inside a JSON document (objects and arrays), capped. */
function paths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (out.length > 400) return out;
  if (Array.isArray(value)) value.slice(0, 6).forEach((v, i) => (out.push([...prefix, i]), paths(v, [...prefix, i], out)));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) (out.push([...prefix, k]), paths(v, [...prefix, k], out));
  return out;
}

function mutate(doc: unknown, at: Array<string | number>, replacement: unknown, remove: boolean): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

describe('fuzz', () => {
  it('generated JSON bodies on every POST endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POSTS), fc.jsonValue({ maxDepth: 4 }), async (url, body) => {
        await check('POST', url, JSON.stringify(body), { 'content-type': 'application/json' });
      }),
      { numRuns: 400 },
    );
  });

  it('real client requests with a wrong type, or nothing, at every field', async () => {
    for (const [url, seed] of Object.entries(seeds)) {
      const all = paths(seed);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...all), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(null), fc.constant('')), fc.boolean(), async (at, value, remove) => {
          await check('POST', url, JSON.stringify(mutate(seed, at, value, remove)), { 'content-type': 'application/json' });
        }),
        { numRuns: 150 },
      );
    }
  });

  it('a corpus of nasties', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deepObject = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const nasties: Array<[string | Buffer, Record<string, string>]> = [
      ['{"model": "x", "messages": [', { 'content-type': 'application/json' }],
      ['', { 'content-type': 'application/json' }],
      ['null', { 'content-type': 'application/json' }],
      ['"a string"', { 'content-type': 'application/json' }],
      ['[]', { 'content-type': 'application/json' }],
      [deep, { 'content-type': 'application/json' }],
      [deepObject, { 'content-type': 'application/json' }],
      [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), { 'content-type': 'application/json' }],
      [JSON.stringify({ model: 'x', messages: Array.from({ length: 5000 }, () => ({ role: 'user', content: 'x' })) }), { 'content-type': 'application/json' }],
      [JSON.stringify({ model: 'x', max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(200_000) }] }), { 'content-type': 'application/json' }],
      [JSON.stringify({ model: 'x', messages: [] }), { 'content-type': 'text/xml' }],
      ['model=x', { 'content-type': 'application/x-www-form-urlencoded' }],
      [JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'x' }], __proto__: { admin: true } }), { 'content-type': 'application/json' }],
      ['{"constructor": {"prototype": {"polluted": 1}}}', { 'content-type': 'application/json' }],
      [JSON.stringify({ model: 'x'.repeat(10_000), messages: [{ role: 'user', content: 'x' }], max_tokens: -5, temperature: 'hot', n: 99 }), { 'content-type': 'application/json' }],
      [JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'x' }] }), { 'content-type': 'application/json', 'x-api-key': 'a\u0000b', 'anthropic-version': '"><script>' }],
    ];
    for (const url of POSTS) for (const [payload, headers] of nasties) await check('POST', url, payload, headers);
    for (const url of GETS) await check('GET', `${url}?x=${encodeURIComponent('\r\nSet-Cookie: a=b')}`, undefined);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('stays healthy afterwards', async () => {
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    const chat = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-4o', messages: [{ role: 'user', content: 'still there?' }] } });
    expect(chat.statusCode).toBe(200);
  });
});

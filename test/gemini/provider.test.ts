// The gateway in front of the fake Gemini web app (real HTTP on loopback): every scenario of the
// protocol notes §7, accounts, cookies, conversation reuse, attachments and images.
import { readFile, stat } from 'node:fs/promises';
import { connectProxy } from '../helpers/connect-proxy.js';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { cookieJson, endpointsYaml } from '../helpers/gemini.js';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { inflightCount } from '../../src/http/lifecycle.js';

const TOKEN = 'gemini-gateway-token-0000';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let fake: FakeGemini;
let t: TestGateway | undefined;

beforeEach(async () => {
  fake = await new FakeGemini().start();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await fake.stop();
});


function config(dir: string, extra = ''): string {
  return (
    `auth:\n  bearer_token: ${TOKEN}\nserver:\n  sse_commit_after: 0.2\n  sse_ping_interval: 0.2\ng4f:\n  enabled: false\n` +
    `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n${endpointsYaml(fake.url)}` +
    `  timeouts:\n    first_byte: 2\n    idle: 2\n    total: 10\n  recovery_timeout: 2\n  recovery_poll_interval: 0.1\n  cooldown:\n    usage_limit: 60\n    blocked: 120\n${extra}`
  );
}

async function gateway(extra = '', cookies: string | null = cookieJson()): Promise<TestGateway> {
  t = await startTestGateway((dir) => config(dir, extra), { files: cookies === null ? {} : { 'gemini.json': cookies } });
  return t;
}

async function status(): Promise<{ accounts: Array<Record<string, unknown> & { name: string; state: string; has_psid: boolean }> }> {
  return (await (await fetch(`${t!.gw.url}/admin/cookies/status`, { headers: auth })).json()) as never;
}

async function chat(content: string | unknown[], options: { model?: string; stream?: boolean; messages?: unknown[]; user?: string } = {}) {
  const res = await fetch(`${t!.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ model: options.model ?? 'gemini-3-pro', stream: options.stream ?? false, messages: options.messages ?? [{ role: 'user', content }], ...(options.user ? { user: options.user } : {}) }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const answerOf = (text: string) => (JSON.parse(text) as { choices: Array<{ message: { content: string; reasoning_content?: string } }> }).choices[0]!.message;

function sseContent(text: string): { content: string; reasoning: string } {
  let content = '';
  let reasoning = '';
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const delta = (JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string; reasoning_content?: string } }> }).choices?.[0]?.delta;
    content += delta?.content ?? '';
    reasoning += delta?.reasoning_content ?? '';
  }
  return { content, reasoning };
}

describe('answers', () => {
  it('streams thoughts then text, with the request built as the protocol says', async () => {
    await gateway();
    fake.reply = () => ({
      snapshots: [{ text: '', thoughts: '**Considering** the greeting' }, { text: 'Hello', thoughts: '**Considering** the greeting. Done.' }],
      final: { text: 'Hello! How can I help 😀?', thoughts: '**Considering** the greeting. Done.' },
    });
    const res = await chat('Hi there', { stream: true });
    expect(res.status).toBe(200);
    expect(sseContent(res.text)).toEqual({ content: 'Hello! How can I help 😀?', reasoning: '**Considering** the greeting. Done.' });
    const sent = fake.generates[0]!;
    expect(sent.prompt).toBe('Hi there');
    expect(sent.modelId).toBe('9d8ca3786ebdfbea');
    expect(sent.uuidHeader).toBe(sent.uuidSlot);
    expect(sent.metadata).toEqual(['', '', '', null, null, null, null, null, null, '']);
    expect(fake.preflights).toBe(1);
    expect(fake.rpcs).toContain('otAQ7b');
  });

  it('reconciles Markdown drift: no repeated code blocks, exact final text', async () => {
    await gateway();
    const final = 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```\nUse *both*.';
    fake.reply = () => ({
      snapshots: [{ text: 'Here:\n```js\nconst a = 1;\n```' }, { text: 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```' }, { text: 'Here:\n```js\nconst a = 1;\nconst b = 2;\n```\nUse \\*' }],
      final: { text: final },
    });
    expect(sseContent((await chat('code please', { stream: true })).text).content).toBe(final);
  });

  it('streams only the first of several candidates', async () => {
    await gateway();
    fake.reply = () => ({ final: { text: 'First draft' }, extraCandidates: ['Second draft', 'Third draft'] });
    expect(answerOf((await chat('drafts')).text).content).toBe('First draft');
  });

  it('treats an error frame after a complete answer (1096) as success', async () => {
    await gateway();
    fake.reply = () => ({ final: { text: 'Complete answer' }, trailingError: 1096 });
    const res = await chat('x', { stream: true });
    expect(sseContent(res.text).content).toBe('Complete answer');
    expect(res.text).toContain('"finish_reason":"stop"');
    expect(fake.generates).toHaveLength(1);
  });

  it('sends the first delta when the first text frame arrives, not when the answer is complete', async () => {
    await gateway();
    // Frames 1 s apart: the first text frame leaves the fake at ~1 s, the final one at ~3 s.
    fake.reply = () => ({ snapshots: [{ text: 'The first part of the answer, ' }, { text: 'The first part of the answer, then more' }], final: { text: 'The first part of the answer, then more.' }, delayMs: 1000 });
    const started = performance.now();
    const res = await fetch(`${t!.gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gemini-3-pro', stream: true, messages: [{ role: 'user', content: 'x' }] }) });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    let firstContentAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      if (!firstContentAt && /"content":"The first/.test(seen)) firstContentAt = performance.now() - started;
    }
    const total = performance.now() - started;
    expect(firstContentAt).toBeGreaterThan(900);
    expect(firstContentAt).toBeLessThan(1600); // close to the first text frame, far from the last
    expect(total).toBeGreaterThan(2900);
  });
});

describe('errors', () => {
  const cases: Array<[string, () => void, number, string]> = [
    ['1037 usage limit -> 429, account cooling', () => (fake.reply = () => ({ error: 1037 })), 429, 'cooling'],
    ['1060 IP blocked -> 503, account blocked', () => (fake.reply = () => ({ error: 1060 })), 503, 'blocked'],
    ['1052 model invalid -> 400', () => (fake.reply = () => ({ error: 1052 })), 400, 'ok'],
    ['1050 model inconsistent -> 400', () => (fake.reply = () => ({ error: 1050 })), 400, 'ok'],
    ['unknown code -> 502', () => (fake.reply = () => ({ error: 1099 })), 502, 'ok'],
    ['bare status -> 502', () => (fake.reply = () => ({ bare: 13 })), 502, 'ok'],
    ['HTTP 500 -> 502', () => (fake.reply = () => ({ http: 500 })), 502, 'ok'],
    ['429 "sorry" page -> 429, the egress rests (ip_blocked)', () => (fake.reply = () => ({ http: 429, body: 'Sorry... automated queries' })), 429, 'ip_blocked'],
  ];
  for (const [name, setup, code, state] of cases) {
    it(name, async () => {
      await gateway();
      setup();
      const res = await chat('x');
      expect(res.status, res.text).toBe(code);
      expect((await status()).accounts[0]!.state).toBe(state);
    });
  }

  it('without cookies (guest mode off) answers at once: a request that cannot succeed is not retried', async () => {
    await gateway('  guest: off\n', null);
    const res = await chat('hi');
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error.code).toBe('no_cookies');
    const lines = t!.logs.lines();
    expect(lines.find((l) => l.path === '/v1/chat/completions')).toMatchObject({ upstream_calls: 1 });
    expect(lines.some((l) => String(l.msg).includes('retrying'))).toBe(false);
  });

  it('1013 is retried and then succeeds', async () => {
    await gateway();
    fake.reply = (_r, i) => (i === 0 ? { error: 1013 } : { final: { text: 'after retry' } });
    expect(answerOf((await chat('x')).text).content).toBe('after retry');
    expect(fake.generates).toHaveLength(2);
  });

  it('HTTP 400 re-reads the page for a fresh access token once, then succeeds', async () => {
    await gateway();
    expect((await chat('warm up')).status).toBe(200);
    fake.token = 'AJpMio_RotatedAccessToken:1764209999999';
    fake.reply = () => ({ final: { text: 'with the new token' } });
    const res = await chat('x');
    expect(answerOf(res.text).content).toBe('with the new token');
    expect(fake.generates.at(-1)!.at).toBe('AJpMio_RotatedAccessToken:1764209999999');
  });

  it('keeps using the last good access token when the page stops carrying it', async () => {
    await gateway();
    expect((await chat('first')).status).toBe(200);
    fake.omitToken = true;
    // A new session (as after any session-closing error): its page has no SNlM0e.
    const put = await fetch(`${t!.gw.url}/admin/cookies`, { method: 'POST', headers: auth, body: cookieJson() });
    expect(put.status, await put.text()).toBe(200);
    fake.reply = () => ({ final: { text: 'cached token works' } });
    expect(answerOf((await chat('second')).text).content).toBe('cached token works');
    expect(fake.appLoads).toBeGreaterThanOrEqual(2);
    expect(fake.generates.at(-1)!.at).toBe(fake.token);
  });

  it('a 429 "sorry" page on /app is a rate limit', async () => {
    await gateway();
    fake.appStatus = 429;
    const res = await chat('x');
    expect(res.status).toBe(429);
    expect(JSON.parse(res.text).error.message).toMatch(/blocking this gateway's IP/);
  });

  it('ends a stream with no final answer as an error (silently aborted), without recovery', async () => {
    await gateway();
    fake.reply = () => ({ snapshots: [{ text: 'partial' }] });
    const res = await chat('x');
    expect(res.status).toBe(502);
    expect(res.text).toContain('silently aborted');
  });

  it('recovers a silently aborted turn from the chat history (hNvQHb)', async () => {
    await gateway();
    fake.storeAborted = { afterPolls: 2 };
    fake.reply = () => ({ snapshots: [{ text: 'partial answer' }], contextWithoutFinal: true });
    const res = await chat('x', { stream: true });
    expect(sseContent(res.text).content).toBe('partial answer (recovered)');
    expect(fake.rpcs.filter((r) => r === 'hNvQHb').length).toBeGreaterThanOrEqual(2);
  });

  it('ends a stalled stream with a timeout (watchdog)', async () => {
    await gateway();
    fake.reply = () => ({ snapshots: [{ text: 'one' }, { text: 'one two three four five' }], final: { text: 'never' }, stallAfter: 3 });
    const started = Date.now();
    const res = await chat('x', { stream: true });
    expect(res.text).toMatch(/"error":\{"message":"(Gemini stream|Gemini gave no)/);
    expect(Date.now() - started).toBeLessThan(6000);
  });
});

describe('cookies and accounts', () => {
  it('rotates __Secure-1PSIDTS, persists it atomically (0600) and uses it after a restart', async () => {
    await gateway();
    expect((await chat('before')).status).toBe(200);
    const rotate = await fetch(`${t!.gw.url}/admin/cookies/rotate`, { method: 'POST', headers: auth, body: '{}' });
    expect(((await rotate.json()) as { rotation: { result: string } }).rotation.result).toBe('rotated');
    const file = path.join(t!.dir, 'gemini.json');
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    expect(saved['__Secure-1PSIDTS']).toMatch(/^sidts-rotated-/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const s = (await status()).accounts[0]!;
    expect(s.last_rotation).toMatchObject({ result: 'rotated' });
    // After a rotation the next automatic one is refresh_interval (600 s by default) ahead, ±15 s of jitter.
    const next = Date.parse(String(s.next_rotation)) - Date.now();
    expect(next).toBeGreaterThan(570_000);
    expect(next).toBeLessThanOrEqual(615_000);
    expect(JSON.stringify(s)).not.toContain(saved['__Secure-1PSIDTS']);

    // The old value is now refused; a new gateway on the same file must use the rotated one.
    fake.strictPsidts = true;
    const dir = t!.dir;
    await t!.gw.close(1000);
    t = await startTestGateway(() => config(dir), { dir });
    fake.reply = () => ({ final: { text: 'after restart' } });
    expect(answerOf((await chat('again')).text).content).toBe('after restart');
  });

  it('reports a rotation that returned no new __Secure-1PSIDTS', async () => {
    await gateway();
    fake.rotation = 'no-sidts';
    const rotate = await fetch(`${t!.gw.url}/admin/cookies/rotate`, { method: 'POST', headers: auth, body: '{}' });
    const body = (await rotate.json()) as { rotation: { result: string; error?: string } };
    expect(body.rotation.result, body.rotation.error).toBe('no_new_psidts');
    expect((await status()).accounts[0]!.last_rotation).toMatchObject({ result: 'no_new_psidts' });
  });

  it('marks bad cookies expired; a bad paste keeps the old cookies; a good paste fixes it', async () => {
    await gateway('', cookieJson('g.a000UnknownPsid000000000000000000000000000'));
    const res = await chat('x');
    expect(res.status).toBe(502);
    expect((await status()).accounts[0]!.state).toBe('expired');
    const bad = await fetch(`${t!.gw.url}/admin/cookies`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '__Secure-1PSID=g.a000StillUnknown00000000000000000000; __Secure-1PSIDTS=x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('old cookies were kept');
    const kept = JSON.parse(await readFile(path.join(t!.dir, 'gemini.json'), 'utf8')) as Record<string, string>;
    expect(kept['__Secure-1PSID']).toBe('g.a000UnknownPsid000000000000000000000000000');
    const good = await fetch(`${t!.gw.url}/admin/cookies`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: `Cookie: __Secure-1PSID=${PSID}; __Secure-1PSIDTS=${PSIDTS}; NID=1` });
    expect(good.status).toBe(200);
    expect((await status()).accounts[0]!.state).toBe('ok');
    expect((await chat('now')).status).toBe(200);
  });

  it('the answer to POST /admin/cookies reports the configured auto_refresh (was always true)', async () => {
    await gateway('  auto_refresh: false\n', null);
    const saved = await fetch(`${t!.gw.url}/admin/cookies`, { method: 'POST', headers: auth, body: cookieJson() });
    expect(saved.status).toBe(200);
    expect(((await saved.json()) as { account: { auto_refresh: boolean } }).account.auto_refresh).toBe(false);
  });

  it('saves cookies without reaching Google with ?verify=false; status carries the default account at the top level', async () => {
    await gateway('', null);
    const top = (await (await fetch(`${t!.gw.url}/admin/cookies/status`, { headers: auth })).json()) as Record<string, unknown>;
    expect(top).toMatchObject({ has_psid: false, has_psidts: false, updated_at: null, auto_refresh: true });
    const before = { preflights: fake.preflights, appLoads: fake.appLoads, rpcs: fake.rpcs.length };
    const saved = await fetch(`${t!.gw.url}/admin/cookies?verify=false`, { method: 'POST', headers: auth, body: cookieJson() });
    expect(saved.status, await saved.clone().text()).toBe(200);
    expect(await saved.json()).toMatchObject({ status: 'success', account: { has_psid: true, state: 'ok' } });
    expect({ preflights: fake.preflights, appLoads: fake.appLoads, rpcs: fake.rpcs.length }).toEqual(before); // Google was not asked
    const file = JSON.parse(await readFile(path.join(t!.dir, 'gemini.json'), 'utf8')) as Record<string, string>;
    expect(file['__Secure-1PSID']).toBe(PSID);
    expect((await stat(path.join(t!.dir, 'gemini.json'))).mode & 0o777).toBe(0o600);
    const after = (await (await fetch(`${t!.gw.url}/admin/cookies/status`, { headers: auth })).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ has_psid: true, has_psidts: true, updated_at: expect.any(String), auto_refresh: true, accounts: [{ has_psid: true }] });
    expect(JSON.stringify(after)).not.toContain(PSID);
    expect((await chat('hello')).status).toBe(200);

    // Replacing cookies of a live session without verification: the next request uses the new ones.
    const second = 'g.a000SecondAccountPsid0000000000000000000000';
    fake.accounts.set(second, { psidts: PSIDTS, status: 1000 });
    const swap = await fetch(`${t!.gw.url}/admin/cookies?verify=false`, { method: 'POST', headers: auth, body: cookieJson(second) });
    expect(swap.status).toBe(200);
    expect((await chat('again')).status).toBe(200);
    expect(fake.generates.at(-1)!.psid).toBe(second);
    const junk = await fetch(`${t!.gw.url}/admin/cookies?verify=false`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'not cookies' });
    expect(junk.status).toBe(400);
  });

  it('fails over to the next account before the first byte and cools the one that hit its limit', async () => {
    const second = 'g.a000SecondAccountPsid0000000000000000000000';
    fake.accounts.set(second, { psidts: PSIDTS, status: 1000 });
    const accounts = (dir: string) => `  accounts:\n    - name: one\n      cookie_path: ${path.join(dir, 'one.json')}\n    - name: two\n      cookie_path: ${path.join(dir, 'two.json')}\n`;
    t = await startTestGateway((dir) => config(dir, accounts(dir)), { files: { 'one.json': cookieJson(), 'two.json': cookieJson(second) } });
    fake.reply = (request) => (request.psid === PSID ? { error: 1037 } : { final: { text: 'from account two' } });
    for (let i = 0; i < 3; i++) expect(answerOf((await chat(`q${i}`)).text).content).toBe('from account two');
    const states = Object.fromEntries((await status()).accounts.map((a) => [a.name, a.state]));
    expect(states).toEqual({ one: 'cooling', two: 'ok' });
    // Account one was tried once, then skipped while it cools down.
    expect(fake.generates.filter((g) => g.psid === PSID)).toHaveLength(1);
    const ready = (await (await fetch(`${t.gw.url}/ready`)).json()) as { upstreams: Array<{ id: string; accounts?: unknown }> };
    expect(ready.upstreams.find((u) => u.id === 'gemini')?.accounts).toEqual([{ name: 'one', state: 'cooling' }, { name: 'two', state: 'ok' }]);
  });
});

describe('init failures, proxies and secrets', () => {
  it('a failed init (first RPC answers 500) fails fast and is retried on the next request, never hangs', async () => {
    await gateway();
    fake.batchStatus = 500;
    const started = Date.now();
    const res = await chat('x');
    expect(res.status).toBe(502);
    expect(Date.now() - started).toBeLessThan(3000);
    fake.batchStatus = null;
    expect((await chat('y')).status).toBe(200);
  });

  it('sends every Gemini call of an account through its proxy', async () => {
    const proxy = await connectProxy();
    try {
      t = await startTestGateway((dir) => config(dir, `  accounts:\n    - name: proxied\n      cookie_path: ${path.join(dir, 'p.json')}\n      proxy: ${proxy.url}\n`), { files: { 'p.json': cookieJson() } });
      expect((await chat('via proxy')).status).toBe(200);
      expect(proxy.seen.length).toBeGreaterThanOrEqual(1);
      expect(new Set(proxy.seen)).toEqual(new Set([new URL(fake.url).host]));
    } finally {
      proxy.close();
    }
  });

  it('never writes cookie values to the log, even at trace level', async () => {
    await gateway('');
    await t!.gw.app.inject({ method: 'POST', url: '/admin/logging', headers: { authorization: `Bearer ${TOKEN}` }, payload: { level: 'trace' } });
    await chat('hello');
    await fetch(`${t!.gw.url}/admin/cookies/rotate`, { method: 'POST', headers: auth, body: '{}' });
    fake.reply = () => ({ error: 1037 });
    await chat('limited');
    const rotated = fake.accounts.get(PSID)!.psidts;
    t!.gw.logs.logger.warn(`pasted by mistake: ${PSID} ${rotated}`);
    const log = t!.logs.text;
    expect(log).toContain('gemini account state changed');
    for (const secret of [PSID, PSIDTS, rotated]) expect(log).not.toContain(secret);
  });
});

describe('conversations', () => {
  it('a continued conversation sticks to its account while new ones go round-robin', async () => {
    const second = 'g.a000SecondAccountPsid0000000000000000000000';
    fake.accounts.set(second, { psidts: PSIDTS, status: 1000 });
    const accounts = (dir: string) => `  accounts:\n    - name: one\n      cookie_path: ${path.join(dir, 'one.json')}\n    - name: two\n      cookie_path: ${path.join(dir, 'two.json')}\n`;
    t = await startTestGateway((dir) => config(dir, accounts(dir)), { files: { 'one.json': cookieJson(), 'two.json': cookieJson(second) } });
    fake.reply = (r) => ({ final: { text: `answer from ${r.psid === PSID ? 'one' : 'two'}` } });
    const first = answerOf((await chat('', { messages: [{ role: 'user', content: 'start' }], user: 'sticky' })).text).content;
    const history = [{ role: 'user', content: 'start' }, { role: 'assistant', content: first }];
    let turn = first;
    for (let i = 0; i < 3; i++) {
      history.push({ role: 'user', content: `next ${i}` });
      turn = answerOf((await chat('', { messages: history, user: 'sticky' })).text).content;
      expect(turn).toBe(first);
      history.push({ role: 'assistant', content: turn });
    }
    const owners = new Set(fake.generates.map((g) => g.psid));
    expect(owners.size).toBe(1);
    // A fresh conversation goes to the other account.
    expect(answerOf((await chat('fresh')).text).content).not.toBe(first);
  });

  it('continues the Gemini chat on a hit, sending only the new turn', async () => {
    await gateway();
    fake.reply = (r) => ({ final: { text: `Answer to: ${r.prompt}` } });
    const first = answerOf((await chat('', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+2?' }], user: 'conv-a' })).text).content;
    expect(first).toBe('Answer to: [System]\nBe brief.\n\n[User]\nWhat is 2+2?');
    const second = await chat('', {
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: first }, { role: 'user', content: 'And 3+3?' }],
      user: 'conv-a',
    });
    expect(answerOf(second.text).content).toBe('Answer to: And 3+3?');
    const [turn1, turn2] = fake.generates;
    expect(turn2!.metadata[0]).toBe(fake.chats.keys().next().value);
    expect(turn2!.metadata[0]).not.toBe('');
    expect(turn1!.metadata[0]).toBe('');
  });

  it('misses (full transcript, new chat) for another client key or a changed history', async () => {
    await gateway();
    fake.reply = (r) => ({ final: { text: `Answer ${r.prompt.length}` } });
    const first = answerOf((await chat('', { messages: [{ role: 'user', content: 'Hello' }], user: 'conv-b' })).text).content;
    const history = [{ role: 'user', content: 'Hello' }, { role: 'assistant', content: first }, { role: 'user', content: 'Next' }];
    await chat('', { messages: history, user: 'someone-else' });
    expect(fake.generates[1]!.metadata[0]).toBe('');
    expect(fake.generates[1]!.prompt).toBe(`[User]\nHello\n\n[Assistant]\n${first}\n\n[User]\nNext`);
  });
});

describe('attachments and images', () => {
  it('uploads an inbound image with a real filename and attaches it', async () => {
    await gateway();
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    const res = await fetch(`${t!.gw.url}/v1/messages`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'gemini-3-flash', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }] }] }),
    });
    expect(res.status).toBe(200);
    const sent = fake.generates[0]!;
    expect(sent.files).toEqual([{ id: expect.stringMatching(/^\/contrib_service\//), name: 'image-1.png' }]);
    expect(fake.uploads.get(sent.files[0]!.id)).toMatchObject({ name: 'image-1.png', type: 'image/png' });
    expect(sent.prompt).toBe('What is this?\n[attachment 1]');
    expect(sent.modelId).toBe('fbb127bbb056c959');
  });

  it('fetches an image URL only at a public address unless security.fetch_allow lists it, never naming the target', async () => {
    const { createServer } = await import('node:http');
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from('89504e470d0a1a0a', 'hex'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/internal/secret.png`;
    const ask = () =>
      fetch(`${t!.gw.url}/v1/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'gemini-3-flash', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'url', url } }] }] }),
      });
    try {
      await gateway();
      const refused = await ask();
      const text = await refused.text();
      expect(refused.status).toBe(400);
      expect(text).toContain('refused');
      for (const detail of ['127.0.0.1', 'secret.png', 'internal']) expect(text).not.toContain(detail);
      expect(hits, 'the internal server was never reached').toBe(0);
      expect(fake.generates).toHaveLength(0);
      await t!.stop();

      await gateway('security:\n  fetch_allow: ["127.0.0.1"]\n');
      const allowed = await ask();
      expect(allowed.status, await allowed.clone().text()).toBe(200);
      expect(hits).toBe(1);
      expect(fake.uploads.get(fake.generates[0]!.files[0]!.id)).toMatchObject({ name: 'image-1.png', type: 'image/png' });
    } finally {
      server.close();
    }
  });

  it('refuses an image type Gemini cannot take, with a clear 4xx in the client protocol', async () => {
    await gateway();
    const res = await fetch(`${t!.gw.url}/v1/messages`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'gemini-3-flash', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/x-icon', data: 'AAAA' } }] }] }),
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('PNG, JPEG');
  });

  it('uses the id the account lists under the same display name when the configured id is stale', async () => {
    await gateway('  model_map:\n    gemini-3-pro: { id: "0000000000000000", display: "Pro" }\n');
    expect((await chat('x')).status).toBe(200);
    expect(fake.generates[0]!.modelId).toBe('9d8ca3786ebdfbea');
  });

  it('over max_prompt_bytes: older history goes up as message.txt, the newest turn stays inline', async () => {
    await gateway('  max_prompt_bytes: 1000\n  conversations:\n    reuse: false\n');
    const history = [
      { role: 'user', content: 'é'.repeat(600) }, // 1,200 UTF-8 bytes in 600 characters
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: 'What did I send first?' },
    ];
    expect((await chat('', { messages: history })).status).toBe(200);
    const sent = fake.generates[0]!;
    expect(sent.files.map((f) => f.name)).toEqual(['message.txt']);
    expect(sent.prompt).toContain('attached file message.txt');
    expect(sent.prompt).toContain('What did I send first?');
    expect(sent.prompt).not.toContain('éé');
  });

  it('serves generated images through short-lived signed links; forged links are refused', async () => {
    await gateway();
    fake.reply = () => ({
      final: { text: 'Here it is: http://googleusercontent.com/image_generation_content/0', images: [{ url: `${fake.url}/img/gen-cat.png`, alt: 'a cat', generated: true }] },
    });
    const content = answerOf((await chat('draw a cat')).text).content;
    expect(content).toMatch(/^Here it is: !\[a cat\]\(http:\/\/127\.0\.0\.1:\d+\/images\/[\w-]+\.[\w-]+\)$/);
    const link = /\((http[^)]+)\)/.exec(content)![1]!;
    const image = await fetch(link); // no token needed: the signature is the key
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const forged = await fetch(link.replace(/\.[\w-]+$/, '.AAAA'));
    expect(forged.status).toBe(404);
  });
});

describe('client disconnect', () => {
  // A client that leaves mid-answer ends the StreamGenerate call at once: the answer would otherwise
  // keep its connection (and an account slot) for its whole length.
  it('closes the StreamGenerate connection within 1 s of the client leaving', async () => {
    await gateway();
    // 30 snapshots 500 ms apart: the answer would hold the connection for 15 s.
    const snapshots = Array.from({ length: 30 }, (_, i) => ({ text: Array.from({ length: i + 1 }, (_, k) => `word${k}`).join(' ') }));
    fake.reply = () => ({ snapshots, final: snapshots.at(-1)!, delayMs: 500 });
    const controller = new AbortController();
    const res = await fetch(`${t!.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'gemini-3-pro', stream: true, messages: [{ role: 'user', content: 'count' }] }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let seen = '';
    // Two text deltas seen: the answer is streaming (the words arrive cut anywhere).
    while (seen.split('"delta":{"content":"').length < 3) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended before the first snapshot: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    expect(fake.generates[0]!.closedAt, 'the answer is still being written').toBeUndefined();
    const left = performance.now();
    controller.abort();
    await waitFor(() => fake.generates[0]?.closedAt !== undefined, 1000);
    expect(fake.generates[0]!.closedAt! - left).toBeLessThan(1000);
    await waitFor(() => inflightCount(t!.gw.app) === 0, 1000);
  });
});

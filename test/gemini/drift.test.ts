// Gemini web as Google serves it in late 2026 (issue 12, shared/docs/gemini-web-2026h2.md): IP
// blocks, prompt size in bytes, stale build labels, empty answers, the newer request shapes and
// model names. Real HTTP on loopback against the fake.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { connectProxy } from '../helpers/connect-proxy.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const TOKEN = 'gemini-drift-token-0000';
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

const cookieJson = (psid = PSID, extra: Record<string, string> = {}) => JSON.stringify({ '__Secure-1PSID': psid, '__Secure-1PSIDTS': PSIDTS, ...extra, updated_at: '2026-11-01T00:00:00Z' });

function config(dir: string, extra = ''): string {
  return (
    `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\n` +
    `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  auto_refresh: false\n  endpoints:\n    gemini: ${fake.url}\n    accounts: ${fake.url}\n    upload: ${fake.url}\n    google: ${fake.url}\n` +
    `  timeouts:\n    first_byte: 2\n    idle: 2\n    total: 10\n  recovery_timeout: 0.2\n  recovery_poll_interval: 0.1\n${extra}`
  );
}

async function gateway(extra = '', files: Record<string, string> = { 'gemini.json': cookieJson() }): Promise<TestGateway> {
  t = await startTestGateway((dir) => config(dir, extra), { files });
  return t;
}

async function post(url: string, body: unknown) {
  const res = await fetch(`${t!.gw.url}${url}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const chat = (messages: unknown[], model = 'gemini-3.1-pro') => post('/v1/chat/completions', { model, messages });
const ask = (content: string, model?: string) => chat([{ role: 'user', content }], model);
const contentOf = (text: string) => (JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;

async function accountStates(): Promise<Record<string, { state: string; until: string | null; egress: string }>> {
  const body = (await (await fetch(`${t!.gw.url}/admin/cookies/status`, { headers: auth })).json()) as { accounts: Array<{ name: string; state: string; until: string | null; egress: string }> };
  return Object.fromEntries(body.accounts.map((a) => [a.name, a]));
}

const SORRY = { http: 302, headers: { location: 'https://www.google.com/sorry/index?continue=https://gemini.google.com/app&google_abuse=GOOGLE_ABUSE_EXEMPTION' } };

describe('IP blocks', () => {
  it('a /sorry redirect rests the egress: accounts behind it are not tried, one behind another proxy answers', async () => {
    const [two, three] = ['g.a000SecondAccountPsid0000000000000000000000', 'g.a000ThirdAccountPsid00000000000000000000000'];
    for (const psid of [two, three]) fake.accounts.set(psid, { psidts: PSIDTS, status: 1000 });
    const proxy = await connectProxy();
    try {
      const accounts = (dir: string) =>
        `  accounts:\n` +
        `    - { name: one, cookie_path: ${path.join(dir, 'one.json')} }\n` +
        `    - { name: two, cookie_path: ${path.join(dir, 'two.json')} }\n` +
        `    - { name: three, cookie_path: ${path.join(dir, 'three.json')}, proxy: "${proxy.url}" }\n`;
      t = await startTestGateway((dir) => config(dir, accounts(dir)), { files: { 'one.json': cookieJson(), 'two.json': cookieJson(two), 'three.json': cookieJson(three) } });
      // The direct connection is blocked; the proxied account's requests leave from elsewhere.
      fake.reply = (r) => (r.psid === three ? { final: { text: 'from the proxied account' } } : SORRY);
      const res = await ask('hello');
      expect(res.status, res.text).toBe(200);
      expect(contentOf(res.text)).toBe('from the proxied account');
      expect(fake.generates.map((g) => g.psid), 'account two shares the blocked egress: never tried').toEqual([PSID, three]);
      const states = await accountStates();
      expect([states.one!.state, states.two!.state, states.three!.state]).toEqual(['ip_blocked', 'ip_blocked', 'ok']);
      const lifts = Date.parse(states.one!.until!) - Date.now();
      expect(lifts).toBeGreaterThan(7100_000);
      expect(lifts).toBeLessThan(7300_000);

      const ready = (await (await fetch(`${t.gw.url}/ready`)).json()) as { upstreams: Array<{ id: string; accounts: Array<{ state: string }> }> };
      expect(ready.upstreams.find((u) => u.id === 'gemini')!.accounts.map((a) => a.state)).toEqual(['ip_blocked', 'ip_blocked', 'ok']);
      const metrics = await (await fetch(`${t.gw.url}/metrics`, { headers: auth })).text();
      expect(metrics).toMatch(/gateway_gemini_ip_blocks_total 1\b/);
      expect(metrics).toMatch(/gateway_gemini_accounts\{state="ip_blocked"\} 2/);
    } finally {
      proxy.close();
    }
  });

  it('with every account behind the blocked egress: 429 saying so, with the time it lifts, in each protocol', async () => {
    await gateway();
    fake.reply = () => SORRY;
    const openai = await ask('hello');
    expect(openai.status).toBe(429);
    expect(Number(openai.headers.get('retry-after'))).toBeGreaterThan(7000);
    expect(JSON.parse(openai.text).error).toMatchObject({ code: 'ip_blocked', message: expect.stringMatching(/blocking this gateway's IP.*lifts at about/) });
    const calls = fake.generates.length;
    const anthropic = await post('/v1/messages', { model: 'gemini-3.1-pro', max_tokens: 10, messages: [{ role: 'user', content: 'again' }] });
    expect(anthropic.status).toBe(429);
    expect(JSON.parse(anthropic.text).error.type).toBe('rate_limited'.replace('rate_limited', 'rate_limit_error'));
    expect(fake.generates.length, 'no request goes out while the block lasts').toBe(calls);
  });

  it('a 429 from the token page (any endpoint) is an IP block too', async () => {
    await gateway();
    fake.appStatus = 429;
    const res = await ask('hello');
    expect(res.status).toBe(429);
    expect((await accountStates()).default!.state).toBe('ip_blocked');
  });
});

describe('prompt size in UTF-8 bytes', () => {
  const history = (userBytes: number) => [
    { role: 'user', content: '你'.repeat(Math.ceil(userBytes / 3)) }, // 3 bytes a character
    { role: 'assistant', content: 'noted' },
    { role: 'user', content: 'NEWEST QUESTION' },
  ];

  it('keeps the newest turn inline where Google would have cut it, the history in message.txt', async () => {
    await gateway('  conversations:\n    reuse: false\n');
    // ~150 KB of CJK text: under 100,000 characters (the old budget) but past Google's 130,000-byte cut.
    expect((await chat(history(130_000))).status).toBe(200);
    const sent = fake.generates[0]!;
    expect(Buffer.byteLength(sent.prompt)).toBeLessThan(120_000);
    expect(sent.prompt).toContain('NEWEST QUESTION');
    expect(sent.files.map((f) => f.name)).toEqual(['message.txt']);
  });

  it('replays history too long for one file into the chat in parts, then sends the real turn in the same chat', async () => {
    await gateway('  max_prompt_bytes: 2000\n  max_history_file_bytes: 3000\n  history_parts_max: 3\n  conversations:\n    reuse: false\n');
    fake.reply = (r) => ({ final: { text: r.prompt.includes('single word OK') ? 'OK' : 'the real answer' } });
    const res = await chat(history(7_000));
    expect(res.status, res.text).toBe(200);
    expect(contentOf(res.text)).toBe('the real answer');
    const prompts = fake.generates.map((g) => g.prompt);
    expect(prompts.slice(0, 3).every((p) => /^Part \d of 3 /.test(p))).toBe(true);
    expect(fake.generates.slice(0, 3).map((g) => g.files[0]!.name)).toEqual(['history-1.txt', 'history-2.txt', 'history-3.txt']);
    const chatId = fake.generates[1]!.metadata[0];
    expect(chatId).toBeTruthy();
    expect(fake.generates[3]!.metadata[0], 'the real turn continues the chat the parts built').toBe(chatId);
    expect(fake.generates[3]!.prompt).toContain('NEWEST QUESTION');
  });

  it('past history_parts_max: 400 in the wording agents act on (Anthropic "prompt is too long", OpenAI context_length_exceeded)', async () => {
    await gateway('  max_prompt_bytes: 2000\n  max_history_file_bytes: 3000\n  history_parts_max: 1\n');
    const openai = await chat(history(20_000));
    expect(openai.status).toBe(400);
    expect(JSON.parse(openai.text).error).toMatchObject({ type: 'invalid_request_error', code: 'context_length_exceeded' });
    const anthropic = await post('/v1/messages', { model: 'gemini-3.1-pro', max_tokens: 100, messages: history(20_000) });
    expect(anthropic.status).toBe(400);
    const error = JSON.parse(anthropic.text).error as { type: string; message: string };
    expect(error.type).toBe('invalid_request_error');
    // Claude Code parses exactly this: /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/
    const parsed = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/i.exec(error.message);
    expect(parsed).not.toBeNull();
    expect(Number(parsed![1])).toBeGreaterThan(Number(parsed![2]));
    expect(fake.generates).toHaveLength(0);
  });
});

describe('stale pages, empty answers', () => {
  it('HTTP 405 (stale build label) re-reads /app and retries once', async () => {
    await gateway();
    fake.reply = (_r, i) => (i === 0 ? { http: 405 } : { final: { text: 'after a page re-read' } });
    const loads = fake.appLoads;
    const res = await ask('hello');
    expect(res.status, res.text).toBe(200);
    expect(contentOf(res.text)).toBe('after a page re-read');
    expect(fake.appLoads).toBeGreaterThan(loads);
  });

  it('re-reads the page in the background every page_refresh_interval', async () => {
    await gateway('  page_refresh_interval: 0.3\n');
    expect((await ask('warm up')).status).toBe(200);
    const loads = fake.appLoads;
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.appLoads - loads).toBeGreaterThanOrEqual(2);
  });

  it('1155 (no content frame) is retried on the same account, then answered', async () => {
    const two = 'g.a000SecondAccountPsid0000000000000000000000';
    fake.accounts.set(two, { psidts: PSIDTS, status: 1000 });
    t = await startTestGateway((dir) => config(dir, `  accounts:\n    - { name: one, cookie_path: ${path.join(dir, 'one.json')} }\n    - { name: two, cookie_path: ${path.join(dir, 'two.json')} }\n`), {
      files: { 'one.json': cookieJson(), 'two.json': cookieJson(two) },
    });
    fake.reply = (_r, i) => (i < 2 ? { error: 1155, status: 13 } : { final: { text: 'third time' } });
    const res = await ask('hello');
    expect(res.status, res.text).toBe(200);
    expect(new Set(fake.generates.map((g) => g.psid)).size, 'all three on the same account').toBe(1);
    expect(fake.generates).toHaveLength(3);
    expect((await accountStates()).one!.state).toBe('ok');
  });
});

describe('request shapes and models', () => {
  it('sends the 97-slot payload with the turn index, model number and thinking mode; a reused chat counts turns', async () => {
    await gateway();
    const first = await chat([{ role: 'user', content: 'first' }], 'gemini-3.1-pro-extended');
    expect(first.status).toBe(200);
    const answer = contentOf(first.text);
    expect((await chat([{ role: 'user', content: 'first' }, { role: 'assistant', content: answer }, { role: 'user', content: 'second' }], 'gemini-3.1-pro-extended')).status).toBe(200);
    const [one, two] = fake.generates as [(typeof fake.generates)[0], (typeof fake.generates)[0]];
    expect(one.inner).toHaveLength(97);
    expect([one.inner[17], one.inner[79], one.inner[80], one.inner[91]]).toEqual([[[0]], 3, 2, 0]);
    expect(two.inner[17], 'the second turn of the same Gemini chat').toEqual([[1]]);
    expect(two.metadata[0]).toBe(one.metadata[0] || fake.generates[1]!.metadata[0]);
    expect(one.uuidSlot).toBe(one.uuidHeader);
    expect(one.at).toBe(fake.token);
  });

  it('serves names older configs use through unlisted aliases; lists the current line-up', async () => {
    await gateway();
    for (const [name, id] of [['gemini-2.0-flash', 'fbb127bbb056c959'], ['gemini-3-pro', '9d8ca3786ebdfbea'], ['gemini-3.5-flash-lite', 'cf41b0e0dd7d53e5']] as const) {
      expect((await ask('x', name)).status).toBe(200);
      expect(fake.generates.at(-1)!.modelId).toBe(id);
    }
    const models = ((await (await fetch(`${t!.gw.url}/v1/models`, { headers: auth })).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(models).toEqual(expect.arrayContaining(['gemini-3.1-pro', 'gemini-3.6-flash', 'gemini-3.5-flash-lite', 'gemini-3.1-pro-extended']));
    expect(models).not.toContain('gemini-2.0-flash');
  });

  it('warns at start-up about a configured model with no id and no alias (not a 400 later)', async () => {
    await gateway('  models: [gemini-3.1-pro, gemini-9-ultra]\n');
    expect(t!.logs.lines().some((l) => String(l.msg).includes('"gemini-9-ultra" has no id in gemini.model_map'))).toBe(true);
  });
});

// Gemini web as Google serves it in late 2026 (issue 12, shared/docs/gemini-web-2026h2.md): IP
// blocks, prompt size in bytes, stale build labels, empty answers, the newer request shapes and
// model names. Real HTTP on loopback against the fake.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { cookieJson, endpointsYaml } from '../helpers/gemini.js';
import { connectProxy } from '../helpers/connect-proxy.js';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';

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


function config(dir: string, extra = ''): string {
  return (
    `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\n` +
    `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  auto_refresh: false\n${endpointsYaml(fake.url)}` +
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

describe('against the drifted fake (late-2026 behaviours)', () => {
  it('never answers a downgraded model as the requested one: the account is marked expired (on_downgrade: refuse)', async () => {
    await gateway();
    expect((await ask('warm up')).status).toBe(200);
    fake.accounts.get(PSID)!.expired = true; // Google now answers these cookies as a signed-out visitor
    const res = await ask('hello');
    expect(fake.generates.at(-1)!.servedModel).toBe('cf41b0e0dd7d53e5');
    expect(res.status, res.text).toBe(502);
    expect(JSON.parse(res.text).error.message).toMatch(/served 3\.5 Flash-Lite instead of 3\.1 Pro/);
    expect((await accountStates()).default!.state).toBe('expired');
  });

  it('with on_downgrade: serve, answers and logs a warning', async () => {
    await gateway('  on_downgrade: serve\n');
    expect((await ask('warm up')).status).toBe(200);
    fake.accounts.get(PSID)!.expired = true;
    const res = await ask('hello');
    expect(res.status, res.text).toBe(200);
    expect(t!.logs.lines().some((l) => String(l.msg).includes('gemini served another model'))).toBe(true);
  });

  it('an expired account recovers by itself once Google signs it in again (re-checked with the page)', async () => {
    await gateway('  page_refresh_interval: 0.3\n');
    fake.accounts.get(PSID)!.expired = true;
    expect((await ask('hello')).status).toBe(502);
    fake.accounts.get(PSID)!.expired = false;
    await waitFor(async () => (await accountStates()).default!.state === 'ok', 5000, 100);
    expect((await ask('again')).status).toBe(200);
  });

  it('error 1100 (an attachment for a signed-out session) means the cookies expired', async () => {
    await gateway();
    expect((await ask('warm up')).status).toBe(200);
    fake.accounts.get(PSID)!.expired = true;
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    const res = await post('/v1/chat/completions', { model: 'gemini-3.6-flash', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] });
    expect(res.status).toBe(502);
    expect((await accountStates()).default!.state).toBe('expired');
  });

  it('a rotated build label (405) and a stale access token (xsrf 400) are each fixed by one page re-read', async () => {
    await gateway();
    expect((await ask('warm up')).status).toBe(200);
    fake.rotateBuild();
    expect((await ask('after a rollout')).status).toBe(200);
    fake.token = 'AJpMio_RotatedToken:1764300000000';
    expect((await ask('after the token changed')).status).toBe(200);
    expect(fake.generates.at(-1)!.at).toBe(fake.token);
  });

  it('sends the 17-element header (model number, thinking mode, session uuid) and leaves `at` out for nobody', async () => {
    await gateway();
    expect((await ask('x', 'gemini-3.6-flash-extended')).status).toBe(200);
    const sent = fake.generates[0]!;
    expect(sent.header).toHaveLength(17);
    expect([sent.modelId, sent.modelNumber, sent.thinking]).toEqual(['fbb127bbb056c959', 1, 2]);
    expect(sent.header[8]).toEqual([4, 5, 6, 8]);
    expect(String(sent.header[16])).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('signs requests with SAPISIDHASH when a SAPISID cookie exists, and uses /u/N for auth_user', async () => {
    fake.requireSapisidHash = true;
    await gateway('  auth_user: 2\n', { 'gemini.json': cookieJson(PSID, { SAPISID: 'sapisid-0000' }) });
    const res = await ask('hello');
    expect(res.status, res.text).toBe(200);
    expect(fake.generates[0]!.authorization).toMatch(/^SAPISIDHASH \d+_[0-9a-f]{40}$/);
    expect(fake.generates[0]!.authUser).toBe('2');
    expect(fake.authUsers.every((u) => u === '2')).toBe(true);
  });

  it('uploads with the two-step resumable protocol', async () => {
    await gateway();
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    expect((await post('/v1/messages', { model: 'gemini-3.6-flash', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }, { type: 'text', text: 'what?' }] }] })).status).toBe(200);
    const upload = fake.uploads.get(fake.generates[0]!.files[0]!.id)!;
    expect(upload).toMatchObject({ name: 'image-1.png', uploadProtocol: 'resumable' });
    expect(upload.data.equals(Buffer.from('89504e470d0a1a0a', 'hex'))).toBe(true);
  });

  it('serves generated images at full size, following Google\'s redirects with only the auth cookies', async () => {
    await gateway('', { 'gemini.json': cookieJson(PSID, { OTHER_PREF: 'not-an-auth-cookie' }) });
    fake.reply = () => ({ final: { text: 'Here: http://googleusercontent.com/image_generation_content/0', images: [{ url: fake.generatedImageUrl('cat'), alt: 'a cat', generated: true }] } });
    const content = contentOf((await ask('draw a cat')).text);
    const link = /\((http[^)]+)\)/.exec(content)![1]!;
    const image = await fetch(link);
    expect(image.status).toBe(200);
    expect((await image.arrayBuffer()).byteLength, 'the full-size image, not the thumbnail').toBeGreaterThan(4096);
    expect(fake.imageHops.some((h) => h.includes('/rd-gg-dl/cat=s0'))).toBe(true);
  });

  it('after a usage limit (1037) the account rests until the quota window Google reports resets', async () => {
    await gateway();
    fake.quotaResetAt = Math.floor(Date.now() / 1000) + 3 * 3600;
    fake.reply = () => ({ error: 1037 });
    expect((await ask('hello')).status).toBe(429);
    const until = Date.parse((await accountStates()).default!.until!);
    expect(Math.abs(until - fake.quotaResetAt * 1000)).toBeLessThan(5000);
  });

  it('reads the context token from [26] as well as [25] (the next turn carries it)', async () => {
    await gateway();
    fake.contextSlot = 26;
    const first = await chat([{ role: 'user', content: 'first' }]);
    await chat([{ role: 'user', content: 'first' }, { role: 'assistant', content: contentOf(first.text) }, { role: 'user', content: 'second' }]);
    expect(String(fake.generates[1]!.metadata[9])).toMatch(/^!/);
  });

  it('rotates with only __Secure-1PSID and __Secure-1PSIDTS, then refreshes the SIDCC family', async () => {
    fake.strictRotationCookies = true;
    await gateway('', { 'gemini.json': cookieJson(PSID, { SAPISID: 'sapisid-0000', NID: 'nid' }) });
    const rotate = await fetch(`${t!.gw.url}/admin/cookies/rotate`, { method: 'POST', headers: auth, body: '{}' });
    expect(((await rotate.json()) as { rotation: { result: string } }).rotation.result).toBe('rotated');
    expect(fake.rotateCookieNames[0]!.sort()).toEqual(['__Secure-1PSID', '__Secure-1PSIDTS']);
    expect(fake.pageRotations).toBe(1);
  });

  it('what Google would cut: a prompt over 130,000 bytes loses its newest turn unless the budget keeps it inline', async () => {
    const messages = [{ role: 'user', content: 'a '.repeat(70_000) }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'NEWEST QUESTION' }];
    await gateway('  max_prompt_bytes: 400000\n  conversations:\n    reuse: false\n');
    expect((await chat(messages)).status).toBe(200);
    expect(fake.generates[0]!.promptBytes).toBeGreaterThan(130_000);
    expect(fake.generates[0]!.prompt, 'Google cut the tail: the newest turn is gone').not.toContain('NEWEST QUESTION');
    await t!.stop();
    t = undefined;
    await gateway('  conversations:\n    reuse: false\n');
    expect((await chat(messages)).status).toBe(200);
    expect(fake.generates[1]!.prompt).toContain('NEWEST QUESTION');
  });
});

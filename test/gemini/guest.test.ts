// Guest mode (issue 13): with no cookies at all, the default config answers Gemini's Flash models
// as a signed-out visitor, keeps the visitor's page cookies, resends the transcript (a guest's chat
// cannot be continued), and refuses what a guest cannot have with how to add cookies.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { endpointsYaml } from '../helpers/gemini.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runCli } from '../../src/cli.js';

const TOKEN = 'gemini-guest-token-0000';
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

const config = (extra = '') => (dir: string) =>
  `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\n` +
  `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n${endpointsYaml(fake.url)}${extra}`;

async function post(url: string, body: unknown) {
  const res = await fetch(`${t!.gw.url}${url}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}
const chat = (messages: unknown[], model = 'gemini-3.6-flash') => post('/v1/chat/completions', { model, messages });

describe('guest mode (no cookies)', () => {
  it('answers a Flash prompt with no set-up at all, as a guest, and says so in /ready and the status', async () => {
    t = await startTestGateway(config());
    const res = await chat([{ role: 'user', content: 'Hello!' }]);
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text).choices[0].message.content).toBe('Hello from fake Gemini');
    expect(fake.generates[0]).toMatchObject({ guest: true, psid: '', servedModel: 'fbb127bbb056c959' });
    expect(fake.generates[0]!.at, 'no access token for a visitor (never the literal None)').toBe('');
    const ready = (await (await fetch(`${t.gw.url}/ready`)).json()) as { status: string; upstreams: Array<{ id: string; accounts: Array<{ state: string }> }> };
    expect(ready.status).toBe('ready');
    expect(ready.upstreams.find((u) => u.id === 'gemini')!.accounts[0]!.state).toBe('guest');
    const status = (await (await fetch(`${t.gw.url}/admin/cookies/status`, { headers: auth })).json()) as { accounts: Array<{ state: string; hint: string }> };
    expect(status.accounts[0]).toMatchObject({ state: 'guest', hint: expect.stringMatching(/guest/) });
  });

  it('continues a guest conversation by resending it (new chat each turn), with the visitor cookies Google gave', async () => {
    t = await startTestGateway(config());
    const first = await chat([{ role: 'user', content: 'My name is Ada.' }]);
    const answer = JSON.parse(first.text).choices[0].message.content as string;
    const second = await chat([{ role: 'user', content: 'My name is Ada.' }, { role: 'assistant', content: answer }, { role: 'user', content: 'What is my name?' }]);
    expect(second.status, second.text).toBe(200);
    const turn = fake.generates[1]!;
    expect(turn.metadata[0], 'a guest chat id cannot be reused (1096)').toBe('');
    expect(turn.prompt).toContain('My name is Ada.');
    expect(turn.prompt).toContain('What is my name?');
    expect(fake.guestCookies?.NID).toBeTruthy();
    expect(turn.cookies.NID, 'the visitor cookies from the page travel with every turn').toBe(fake.guestCookies!.NID);
  });

  it('refuses Pro and attachments with how to add cookies, never serving Flash-Lite in their place', async () => {
    t = await startTestGateway(config());
    const pro = await chat([{ role: 'user', content: 'hard question' }], 'gemini-3.1-pro');
    expect(pro.status).toBe(400);
    expect(JSON.parse(pro.text).error).toMatchObject({ code: 'model_needs_cookies', message: expect.stringMatching(/signed-in Google account.*POST \/admin\/cookies/) });
    const anthropic = await post('/v1/messages', { model: 'gemini-3.1-pro-extended', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(anthropic.status).toBe(400);
    expect(JSON.parse(anthropic.text).error.type).toBe('invalid_request_error');
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    const image = await chat([{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }]);
    expect(image.status).toBe(400);
    expect(JSON.parse(image.text).error.code).toBe('attachments_need_cookies');
    expect(fake.generates).toHaveLength(0);
  });

  it('stays a guest through background page re-reads (a visitor\'s status 1016 is not an expiry)', async () => {
    t = await startTestGateway(config('  page_refresh_interval: 0.2\n'));
    expect((await chat([{ role: 'user', content: 'hi' }])).status).toBe(200);
    const loads = fake.appLoads;
    await new Promise((r) => setTimeout(r, 800));
    expect(fake.appLoads).toBeGreaterThan(loads);
    const status = (await (await fetch(`${t.gw.url}/admin/cookies/status`, { headers: auth })).json()) as { accounts: Array<{ state: string }> };
    expect(status.accounts[0]!.state).toBe('guest');
    expect((await chat([{ role: 'user', content: 'still there?' }])).status).toBe(200);
  });

  it('stops being a guest the moment cookies arrive', async () => {
    t = await startTestGateway(config());
    expect((await chat([{ role: 'user', content: 'as a guest' }])).status).toBe(200);
    const paste = await fetch(`${t.gw.url}/admin/cookies`, { method: 'POST', headers: auth, body: JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) });
    expect(paste.status).toBe(200);
    expect((await chat([{ role: 'user', content: 'signed in' }], 'gemini-3.1-pro')).status).toBe(200);
    expect(fake.generates.at(-1)).toMatchObject({ guest: false, psid: PSID });
  });

  it('gemini.guest: off keeps the old answer (502 no_cookies)', async () => {
    t = await startTestGateway(config('  guest: off\n'));
    const res = await chat([{ role: 'user', content: 'x' }]);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error.code).toBe('no_cookies');
  });

  it('doctor says "guest" and tries a guest prompt', async () => {
    t = await startTestGateway(config());
    const lines: string[] = [];
    await runCli(['doctor'], (l) => lines.push(l), { CONFIG_PATH: t.configPath });
    const out = lines.join('\n');
    expect(out).toMatch(/! guest: no cookies yet/);
    expect(out).toMatch(/✓ prompt on gemini-3\.6-flash \(guest\): "Hello from fake Gemini", served by 3\.6 Flash/);
  });
});

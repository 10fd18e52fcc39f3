// A user arriving from the original design keeps working: its config.yaml as written (only the
// /app/ paths moved into a temp dir, and Google's hosts pointed at the fake, since tests stay on
// loopback), g4f reached through G4F_BASE_URL as in the compose set-up, and each API call the
// design shows (§4.2 clients, §5.1 logging, §8.2 cookies, §10 endpoints, §3.2 hot reload).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { FakeUpstream, textChunks } from './fakes/openai-upstream.js';
import { startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const TOKEN = 'your-secure-token-here'; // the design's own value
const design = await readFile('test/fixtures/design/config.yaml', 'utf8');
let gemini: FakeGemini;
let g4f: FakeUpstream;
let t: TestGateway;

function designConfig(dir: string, text = design): string {
  const endpoints = `  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n`;
  return text.replaceAll('/app/', `${dir}/`).replace('gemini:\n  enabled: true\n', `gemini:\n  enabled: true\n${endpoints}`);
}

const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
// As curl sends them: a JSON body with its content type, a bodiless POST with none.
const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = bearer()) => {
  const init = body === undefined ? { method, headers } : { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
  const res = await fetch(`${t.gw.url}${url}`, init);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
};

beforeAll(async () => {
  gemini = await new FakeGemini().start();
  gemini.reply = () => ({ snapshots: [{ text: 'Hello' }], final: { text: 'Hello from Gemini' } });
  g4f = await new FakeUpstream().start();
  g4f.handler = (request) => (request.path.endsWith('/models') ? { status: 200, json: { object: 'list', data: [{ id: 'gpt-4o' }] } } : { sse: textChunks('Hello from g4f') });
  // No cookie file yet: the design's flow starts by POSTing them to /admin/cookies.
  t = await startTestGateway((dir) => designConfig(dir), { env: { G4F_BASE_URL: `${g4f.url}/v1` } });
});
afterAll(async () => {
  await t?.stop();
  await gemini?.stop();
  await g4f?.stop();
});

describe("the original design's config and API calls", () => {
  it('GET /health', async () => {
    const res = await call('GET', '/health', undefined, {});
    expect(res.status).toBe(200);
    expect(res.json().status).toBe('ok');
  });

  it('POST /admin/cookies with the design body, then GET /admin/cookies/status with its fields at the top level', async () => {
    const saved = await call('POST', '/admin/cookies', { '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS, updated_at: '2026-01-31T14:30:00' });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.json()).toMatchObject({ status: 'success', message: expect.any(String) });
    const status = await call('GET', '/admin/cookies/status');
    expect(status.json()).toMatchObject({ has_psid: true, has_psidts: true, updated_at: expect.any(String), auto_refresh: true });
    expect(status.text).not.toContain(PSID);
    expect(existsSync(path.join(t.dir, 'cookies', 'gemini.json'))).toBe(true);
  });

  it('the OpenAI client of §4.2 lists the design models and chats with Gemini and with g4f (via G4F_BASE_URL)', async () => {
    const client = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: TOKEN });
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-3.0-pro', 'gemini-2.0-flash', 'gpt-4o', 'gpt-4o-mini', 'claude-3-opus', 'claude-3-sonnet']));
    for (const model of ['gemini-2.5-pro', 'gemini-3.0-pro', 'gemini-2.0-flash']) {
      const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.choices[0]!.message.content, model).toBe('Hello from Gemini');
    }
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from g4f');
    expect(g4f.chats.at(-1)!.body.model).toBe('gpt-4o');
    // A glob of the design's g4f list passes the name through.
    const glob = await client.chat.completions.create({ model: 'deepseek-v3', messages: [{ role: 'user', content: 'hi' }] });
    expect(glob.choices[0]!.message.content).toBe('Hello from g4f');
  });

  it('Claude Code as in §4.2 (ANTHROPIC_API_KEY = the token): /v1/claude/models and a streamed /v1/messages', async () => {
    const headers = { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01' };
    const models = await call('GET', '/v1/claude/models', undefined, headers);
    expect(models.status).toBe(200);
    expect((models.json().data as Array<{ id: string; type: string }>).map((m) => m.id)).toContain('gemini-2.5-pro');
    const res = await call('POST', '/v1/messages', { model: 'gemini-2.5-flash', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }, headers);
    expect(res.status).toBe(200);
    const events = [...res.text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe('message_start');
    expect(events).toContain('content_block_delta');
    expect(events.at(-1)).toBe('message_stop');
  });

  it('POST /admin/logging?level=DEBUG as in §5.1, answering status success', async () => {
    const res = await call('POST', '/admin/logging?level=DEBUG', undefined, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'success', level: 'debug' });
    await call('POST', '/admin/logging?level=INFO', undefined, { authorization: `Bearer ${TOKEN}` });
  });

  it("logs the design's production line to the file it names (§5.2, logging.file)", async () => {
    const file = path.join(t.dir, 'logs', 'gateway.log');
    await call('GET', '/v1/models');
    await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).includes('GET /v1/models'));
    const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.includes('POST /v1/chat/completions | gemini-2.5-pro'))!;
    expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| INFO \| POST \/v1\/chat\/completions \| gemini-2\.5-pro \| 200 \| \d+\.\d+s/);
    expect(await readFile(file, 'utf8')).not.toContain(TOKEN);
  });

  it('POST /admin/config/reload, and hot reload of auth.bearer_token and logging.level by editing the file (§3.2)', async () => {
    const reload = await call('POST', '/admin/config/reload');
    expect(reload.status).toBe(200);
    expect(reload.json().status).toBe('reloaded');
    const version = t.gw.store.current().version;
    await t.writeConfig(designConfig(t.dir, design.replace('your-secure-token-here', 'a-new-secure-token-0001').replace('level: "INFO"', 'level: "WARNING"')));
    await waitFor(() => t.gw.store.current().version > version, 3000);
    expect((await call('GET', '/v1/models', undefined, bearer('a-new-secure-token-0001'))).status).toBe(200);
    expect((await call('GET', '/v1/models')).status).toBe(401);
    expect(t.gw.logs.status().configured_level).toBe('warn');
  });
});

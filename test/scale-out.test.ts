// Scale-out: two gateway processes sharing one real redis-server (started here on a loopback port;
// .ci/run installs the Debian package). A Gemini conversation started on one replica continues on
// the other (same Gemini chat, only the new turn sent), and a previous_response_id chain hops
// between replicas. Without Redis each replica would miss the other's state.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { FakeUpstream, textChunks } from './fakes/openai-upstream.js';
import { spawnGatewayProcess } from './helpers/gateway.js';
import { requireSystemPackage } from './helpers/system-deps.js';
import { Account } from '../src/providers/gemini-web/account.js';
import { SecretRegistry } from '../src/secrets.js';
import { SharedState } from '../src/state/shared-state.js';
import { startRedisServer } from './helpers/redis-server.js';

const REDIS = requireSystemPackage('redis-server', { pkg: 'redis-server', tests: 'the scale-out tests (two replicas sharing Redis)' });
const TOKEN = 'scale-out-token-0123456789';
const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
const base = 21_000 + Math.floor(Math.random() * 4000);
const redisPort = base;
let dir: string;
let redisServer: ChildProcess;
let gemini: FakeGemini;
let upstream: FakeUpstream;
const replicas: Array<{ child: ChildProcess; url: string }> = [];

function config(replica: number): string {
  return (
    `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\nstate:\n  redis_url: redis://127.0.0.1:${redisPort}/0\n  key_prefix: "test-${base}:"\n` +
    `g4f:\n  base_url: ${upstream.url}/v1\n  models: ["gpt-*"]\n` +
    `gemini:\n  cookie_path: ${path.join(dir, `gemini-${replica}.json`)}\n  models: [gemini-3-flash]\n  auto_refresh: false\n` +
    `  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n`
  );
}

beforeAll(async () => {
  if (!REDIS) return;
  dir = await mkdtemp(path.join(tmpdir(), 'gw-scale-'));
  redisServer = await startRedisServer(redisPort);

  gemini = await new FakeGemini().start();
  upstream = await new FakeUpstream().start();
  for (const replica of [0, 1]) {
    // Each replica its own cookie file, as on separate machines.
    await writeFile(path.join(dir, `gemini-${replica}.json`), JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS, updated_at: '2026-11-01T00:00:00Z' }));
    await writeFile(path.join(dir, `config-${replica}.yaml`), config(replica));
    replicas.push(await spawnGatewayProcess(path.join(dir, `config-${replica}.yaml`), base + 1 + replica));
  }
}, 30_000);

afterAll(async () => {
  if (!REDIS) return;
  for (const { child } of replicas) child.kill('SIGKILL');
  redisServer?.kill('SIGKILL');
  await gemini?.stop();
  await upstream?.stop();
  await rm(dir, { recursive: true, force: true });
});

const [a, b] = [0, 1];
const post = async (replica: number, route: string, body: unknown) => {
  const res = await fetch(`${replicas[replica]!.url}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
};

describe.skipIf(!REDIS)('two replicas sharing Redis', () => {
  it('continue one Gemini conversation across replicas (same chat, only the new turn sent)', async () => {
    gemini.reply = (r) => ({ final: { text: `Answer to: ${r.prompt}` } });
    const first = await post(a, '/v1/chat/completions', { model: 'gemini-3-flash', user: 'team-conv', messages: [{ role: 'user', content: 'What is 2+2?' }] });
    expect(first.status).toBe(200);
    const answer = first.json.choices[0].message.content as string;
    const second = await post(b, '/v1/chat/completions', {
      model: 'gemini-3-flash',
      user: 'team-conv',
      messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: answer }, { role: 'user', content: 'And 3+3?' }],
    });
    expect(second.status).toBe(200);
    expect(second.json.choices[0].message.content).toBe('Answer to: And 3+3?');
    const [turn1, turn2] = gemini.generates.slice(-2);
    expect(turn1!.metadata[0]).toBe('');
    expect(turn2!.metadata[0], 'replica B continued the chat replica A started').toBe([...gemini.chats.keys()].at(-1));
  });

  it('continue an agent turn with emulated tool calls on the other replica, sending only the new tool result', async () => {
    const tools = [{ type: 'function', function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } }];
    // Gemini answers with a call first; once it sees the tool's output, with the final text.
    const call = 'Let me read it.\n\n```toolcall\n{"name": "read_file", "arguments": {"path": "a.txt"}}\n```';
    gemini.reply = (r) => ({ final: { text: r.prompt.includes('hello from a.txt') ? 'The file says hello.' : call } });
    const question = { role: 'user', content: 'What does a.txt say?' };
    const first = await post(a, '/v1/chat/completions', { model: 'gemini-3-flash', user: 'team-agent', tools, messages: [question] });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const message = first.json.choices[0].message;
    expect(first.json.choices[0].finish_reason).toBe('tool_calls');
    const chat = [...gemini.chats.keys()].at(-1);

    const second = await post(b, '/v1/chat/completions', {
      model: 'gemini-3-flash',
      user: 'team-agent',
      tools,
      messages: [question, { role: 'assistant', content: message.content, tool_calls: message.tool_calls }, { role: 'tool', tool_call_id: message.tool_calls[0].id, content: 'hello from a.txt' }],
    });
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    expect(second.json.choices[0].message.content).toBe('The file says hello.');
    const turn = gemini.generates.at(-1)!;
    expect(turn.metadata[0], 'replica B continued the Gemini chat replica A started').toBe(chat);
    expect(turn.prompt, 'only the new tool result was sent').toContain('hello from a.txt');
    expect(turn.prompt).not.toContain('What does a.txt say?');
    expect(turn.prompt, 'the tool instructions were not sent again').not.toContain('You can call the tools');
  });

  it('follow a previous_response_id chain that hops between replicas', async () => {
    upstream.handler = (r) => ({ sse: textChunks(`seen ${(r.body.messages as unknown[]).length} messages`) });
    const one = await post(a, '/v1/responses', { model: 'gpt-4o', input: 'first question' });
    expect(one.status).toBe(200);
    const two = await post(b, '/v1/responses', { model: 'gpt-4o', input: 'second question', previous_response_id: one.json.id });
    expect(two.status, JSON.stringify(two.json)).toBe(200);
    const three = await post(a, '/v1/responses', { model: 'gpt-4o', input: 'third question', previous_response_id: two.json.id });
    expect(three.status, JSON.stringify(three.json)).toBe(200);
    // user, assistant, user, assistant, user: the whole chain reached the upstream.
    const sent = upstream.chats.at(-1)!.body.messages as Array<{ role: string; content: unknown }>;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(JSON.stringify(sent)).toContain('first question');
    expect(JSON.stringify(sent)).toContain('seen 3 messages');
  });

  it('an unknown previous_response_id is still a clean 404 on every replica', async () => {
    for (const replica of [a, b]) {
      const res = await post(replica, '/v1/responses', { model: 'gpt-4o', input: 'x', previous_response_id: 'resp_unknown' });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('previous_response_not_found');
    }
  });

  it('a cookie rotated on one replica is picked up by the other before its next Gemini call', async () => {
    gemini.reply = () => ({ final: { text: 'fine' } });
    for (const replica of [a, b]) expect((await post(replica, '/v1/chat/completions', { model: 'gemini-3-flash', messages: [{ role: 'user', content: 'warm' }] })).status).toBe(200);
    gemini.strictPsidts = true; // Google refuses the old __Secure-1PSIDTS once rotated
    const rotated = await post(a, '/admin/cookies/rotate', {});
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    const fresh = gemini.accounts.get(PSID)!.psidts;
    expect(fresh).not.toBe(PSIDTS);
    const onB = await post(b, '/v1/chat/completions', { model: 'gemini-3-flash', messages: [{ role: 'user', content: 'after rotation' }] });
    expect(onB.status, JSON.stringify(onB.json)).toBe(200);
    const fileB = JSON.parse(await readFile(path.join(dir, 'gemini-1.json'), 'utf8')) as Record<string, string>;
    expect(fileB['__Secure-1PSIDTS'], 'replica B persisted the rotated cookie').toBe(fresh);
  });

  it('cookies pasted on one replica reach the other', async () => {
    const other = 'g.a000PastedOnReplicaA000000000000000000000000';
    gemini.accounts.set(other, { psidts: 'sidts-pasted', status: 1000 });
    gemini.reply = () => ({ final: { text: 'fine' } });
    const pasted = await post(a, '/admin/cookies', { '__Secure-1PSID': other, '__Secure-1PSIDTS': 'sidts-pasted' });
    expect(pasted.status, JSON.stringify(pasted.json)).toBe(200);
    expect((await post(b, '/v1/chat/completions', { model: 'gemini-3-flash', messages: [{ role: 'user', content: 'who am I' }] })).status).toBe(200);
    expect(gemini.generates.at(-1)!.psid, 'replica B used the cookies pasted on A').toBe(other);
  });

  it('an account one replica saw hit its usage limit rests on the other replica too', async () => {
    gemini.reply = () => ({ error: 1037 });
    const onA = await post(a, '/v1/chat/completions', { model: 'gemini-3-flash', messages: [{ role: 'user', content: 'limit' }] });
    expect(onA.status).toBe(429);
    const calls = gemini.generates.length;
    const onB = await post(b, '/v1/chat/completions', { model: 'gemini-3-flash', messages: [{ role: 'user', content: 'limit' }] });
    expect(onB.status).toBe(429);
    expect(onB.json.error.message).toMatch(/resting/);
    expect(gemini.generates.length, 'replica B spent no request on the resting account').toBe(calls);
    const status = (await (await fetch(`${replicas[b]!.url}/admin/cookies/status`, { headers })).json()) as { accounts: Array<{ state: string }> };
    expect(status.accounts[0]!.state).toBe('cooling');
  });
});

describe.skipIf(!REDIS)('rotation lock', () => {
  it('of two replicas whose timers fire together, exactly one rotates the account', async () => {
    const states = await Promise.all([0, 1].map(() => SharedState.redis(`redis://127.0.0.1:${redisPort}/0`, `lock-${base}:`, { info() {}, warn() {} })));
    const settings = { endpoints: { gemini: gemini.url, accounts: gemini.url, upload: gemini.url, google: gemini.url }, language: 'en', connectTimeoutMs: 2000, cooldownMs: { usageLimit: 60_000, blocked: 60_000 } };
    const accounts = await Promise.all(
      states.map(async (state, i) => {
        const file = path.join(dir, `lock-${i}.json`);
        await writeFile(file, JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': gemini.accounts.get(PSID)!.psidts }));
        const account = new Account('default', file, settings, new SecretRegistry(), { debug() {}, info() {}, warn() {}, error() {} } as never, state.accounts);
        await account.load();
        return account;
      }),
    );
    try {
      const before = gemini.rotations;
      const records = await Promise.all(accounts.map((account) => account.scheduledRotation(60_000)));
      expect(records.filter((r) => r?.result === 'rotated')).toHaveLength(1);
      expect(records.filter((r) => r === undefined)).toHaveLength(1);
      expect(gemini.rotations - before).toBe(1);
      // Within the same interval nobody rotates again.
      expect(await Promise.all(accounts.map((account) => account.scheduledRotation(60_000)))).toEqual([undefined, undefined]);
    } finally {
      for (const account of accounts) await account.close();
      for (const state of states) await state.close();
    }
  });
});

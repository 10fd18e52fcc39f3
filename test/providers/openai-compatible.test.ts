// The gateway in front of fake OpenAI-compatible upstreams (real HTTP on loopback): the request it
// builds, g4f specifics, and every fault with the retry / fallback rules.
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { connectProxy } from '../helpers/connect-proxy.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeUpstream, rawChunk, textChunks, toolCallChunks } from '../fakes/openai-upstream.js';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { inflightCount } from '../../src/http/lifecycle.js';

const TOKEN = 'oai-compat-token-123456';
let primary: FakeUpstream;
let backup: FakeUpstream;
let t: TestGateway | undefined;

beforeEach(async () => {
  primary = await new FakeUpstream().start();
  backup = await new FakeUpstream().start();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await primary.stop();
  await backup.stop();
});

interface Options {
  g4f?: string;
  extra?: string;
  fallbackEnabled?: boolean;
}

async function gateway(options: Options = {}): Promise<TestGateway> {
  t = await startTestGateway(
    `auth:\n  bearer_token: ${TOKEN}\nserver:\n  sse_commit_after: 0.2\n  sse_ping_interval: 0.2\ngemini:\n  enabled: false\n` +
      `g4f:\n  base_url: ${primary.url}/v1\n  api_key: g4f-secret-key-000\n  models: ["gpt-*", "deepseek-*"]\n` +
      `  fallback:\n    enabled: ${options.fallbackEnabled ?? true}\n    max_retries: 2\n    timeout: 1\n  timeouts:\n    idle: 1\n    total: 5\n${options.g4f ?? ''}` +
      `openai_compatible:\n  - name: backup\n    base_url: ${backup.url}/v1\n    api_key: backup-secret-key-000\n    models: ["backup-*"]\n` +
      `routing:\n  fallbacks:\n    "gpt-4o": [backup-model]\n${options.extra ?? ''}`,
  );
  return t;
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

async function chat(model = 'gpt-4o', stream = false, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${t!.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function contentOf(sse: string): string {
  return sse
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> })
    .map((c) => c.choices?.[0]?.delta?.content ?? '')
    .join('');
}

describe('the upstream request', () => {
  it('is built from the canonical request, with g4f key header and provider pinning', async () => {
    await gateway({ g4f: '  provider_pinning:\n    "gpt-*": PollinationsAI\n' });
    primary.handler = () => ({ sse: textChunks('Hello from g4f') });
    const res = await fetch(`${t!.gw.url}/v1/messages`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        model: 'gpt-4o',
        max_tokens: 300,
        system: [{ type: 'text', text: 'Be brief.' }],
        tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }],
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('Hello from g4f');
    const sent = primary.chats[0]!;
    expect(sent.headers['g4f-api-key']).toBe('g4f-secret-key-000');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({
      model: 'gpt-4o',
      provider: 'PollinationsAI',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 300,
      tool_choice: 'auto',
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      ],
    });
  });

  it('sends Bearer auth to generic OpenAI-compatible upstreams', async () => {
    await gateway();
    backup.handler = () => ({ sse: textChunks('from backup') });
    const res = await chat('backup-1');
    expect(JSON.parse(res.text).choices[0].message.content).toBe('from backup');
    expect(backup.chats[0]!.headers.authorization).toBe('Bearer backup-secret-key-000');
  });

  it('passes native tool calls, reasoning and usage through to every protocol', async () => {
    await gateway();
    primary.handler = () => ({ sse: [rawChunk({ reasoning_content: 'thinking...' }), ...toolCallChunks('get_weather', { city: 'Oslo' })] });
    const res = await chat('gpt-4o', true, { stream_options: { include_usage: true }, tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] });
    expect(res.text).toContain('"reasoning_content":"thinking..."');
    expect(res.text).toContain('"tool_calls":[{"index":0,"id":"call_fake1","type":"function","function":{"name":"get_weather","arguments":""}}]');
    expect(res.text).toContain('"finish_reason":"tool_calls"');
    expect(res.text).toContain('"usage":{"prompt_tokens":11,"completion_tokens":7');
  });

  it('turns Codex apply_patch (a custom tool) into a one-string function upstream and back', async () => {
    await gateway();
    const patch = '*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n';
    primary.handler = () => ({ sse: toolCallChunks('apply_patch', { input: patch }) });
    const res = await fetch(`${t!.gw.url}/v1/responses`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'gpt-4o', input: 'add a file', tools: [{ type: 'custom', name: 'apply_patch', description: 'Edit files', format: { type: 'grammar', syntax: 'lark', definition: 'start: x' } }] }),
    });
    const body = (await res.json()) as { output: unknown[] };
    expect(body.output[0]).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', call_id: 'call_fake1', input: patch });
    const tool = (primary.chats[0]!.body.tools as Array<{ function: { name: string; parameters: { required: string[] } } }>)[0]!;
    expect(tool.function).toMatchObject({ name: 'apply_patch', parameters: { required: ['input'] } });
  });

  it('repairs a broken stream into a valid one', async () => {
    await gateway();
    primary.handler = () => ({
      sse: [
        rawChunk({ tool_calls: [{ id: 'x1', function: { name: 'f', arguments: { a: 1 } } }] }),
        // no finish_reason, no usage
      ],
    });
    const res = await chat('gpt-4o', false, { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] });
    const body = JSON.parse(res.text);
    expect(body.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'call_x1', function: { name: 'f', arguments: '{"a":1}' } }] } });
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });
});

describe('faults, retries and fallback', () => {
  it('429 with Retry-After is retried after the wait', async () => {
    await gateway();
    primary.handler = (_r, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } } : { sse: textChunks('after wait') });
    const started = Date.now();
    const res = await chat();
    expect(JSON.parse(res.text).choices[0].message.content).toBe('after wait');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(primary.chats).toHaveLength(2);
  });

  it('a Retry-After longer than worth waiting moves straight to the fallback model', async () => {
    await gateway();
    primary.handler = () => ({ status: 429, headers: { 'retry-after': '120' }, json: { error: { message: 'quota' } } });
    backup.handler = () => ({ sse: textChunks('backup answer') });
    const started = Date.now();
    const res = await chat();
    expect(JSON.parse(res.text).choices[0].message.content).toBe('backup answer');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(primary.chats).toHaveLength(1);
    expect(backup.chats[0]!.body.model).toBe('backup-model');
  });

  it('500 is retried; after max_retries the fallback model serves', async () => {
    await gateway();
    primary.handler = () => ({ status: 500, json: { error: { message: 'boom' } } });
    backup.handler = () => ({ sse: textChunks('saved') });
    const res = await chat('gpt-4o', true);
    expect(res.status).toBe(200);
    expect(contentOf(res.text)).toBe('saved');
    expect(primary.chats).toHaveLength(3); // 1 + max_retries
    const line = t!.logs.lines().find((l) => l.path === '/v1/chat/completions');
    expect(line).toMatchObject({ provider: 'backup', upstream_model: 'backup-model', model: 'gpt-4o' });
  });

  it('every upstream call draws from one budget: routing.max_upstream_calls stops retries and fallbacks, and the log line counts the calls', async () => {
    await gateway();
    primary.handler = () => ({ status: 500, json: { error: { message: 'boom' } } });
    backup.handler = () => ({ sse: textChunks('saved') });
    expect((await chat()).status).toBe(200);
    expect(t!.logs.lines().find((l) => l.path === '/v1/chat/completions')).toMatchObject({ upstream_calls: 4 }); // 3 on g4f + the backup
    await t!.stop();

    await gateway({ extra: '  max_upstream_calls: 2\n' });
    const limited = await chat();
    expect(limited.status).toBe(502);
    expect(primary.chats).toHaveLength(3 + 2);
    expect(backup.chats).toHaveLength(1);
    expect(t!.logs.lines().find((l) => l.path === '/v1/chat/completions')).toMatchObject({ upstream_calls: 2, status: 502 });
  });

  it('never retries an invalid request', async () => {
    await gateway();
    primary.handler = () => ({ status: 400, json: { error: { message: 'bad field' } } });
    const res = await chat();
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.message).toContain('bad field');
    expect(primary.chats).toHaveLength(1);
    expect(backup.chats).toHaveLength(0);
  });

  it('a reset before the first byte is retried', async () => {
    await gateway();
    primary.handler = (_r, i) => (i === 0 ? { reset: true } : { sse: textChunks('second try') });
    const res = await chat();
    expect(JSON.parse(res.text).choices[0].message.content).toBe('second try');
  });

  it('a reset after the first byte ends the stream with an error event, never a restart', async () => {
    await gateway();
    primary.handler = () => ({ sse: [rawChunk({ content: 'partial ' }), { delayMs: 50 }, { reset: true }] });
    backup.handler = () => ({ sse: textChunks('must not appear') });
    const res = await chat('gpt-4o', true);
    expect(res.status).toBe(200);
    expect(contentOf(res.text)).toBe('partial ');
    expect(res.text).toMatch(/data: \{"error":\{"message":"Upstream g4f stream/);
    expect(res.text).not.toContain('[DONE]');
    expect(primary.chats).toHaveLength(1);
    expect(backup.chats).toHaveLength(0);
  });

  it('a stall before the first event times out (fallback.timeout) and falls back', async () => {
    await gateway({ g4f: '' });
    primary.handler = () => ({ sse: [{ stall: true }] });
    backup.handler = () => ({ sse: textChunks('fast backup') });
    const started = Date.now();
    const res = await chat('gpt-4o', true);
    expect(contentOf(res.text)).toBe('fast backup');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(3 * 1000 - 100); // three attempts of 1 s
    expect(took).toBeLessThan(5000);
    expect(res.text).toContain(': ping'); // the client was kept alive meanwhile
  });

  it('a stall after the first event past the idle timeout ends the stream with an error', async () => {
    await gateway();
    primary.handler = () => ({ sse: [rawChunk({ content: 'start ' }), { stall: true }] });
    const started = Date.now();
    const res = await chat('gpt-4o', true);
    expect(contentOf(res.text)).toBe('start ');
    expect(res.text).toContain('"error":{"message":"Upstream g4f stream: timed out');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a slow drip past the total timeout ends with a timeout error', async () => {
    await gateway({ g4f: '' });
    primary.handler = () => ({ sse: Array.from({ length: 40 }, (_, i) => [rawChunk({ content: `${i} ` }), { delayMs: 200 }]).flat() });
    const res = await chat('gpt-4o', true);
    expect(res.text).toContain('no complete answer within 5 s');
  }, 15_000);

  it('malformed chunks: before the first event -> retry; after -> error event', async () => {
    await gateway();
    primary.handler = (_r, i) => (i === 0 ? { sse: ['data: {"choices": [\n\n'] } : { sse: textChunks('clean') });
    expect(JSON.parse((await chat()).text).choices[0].message.content).toBe('clean');
    primary.handler = () => ({ sse: [rawChunk({ content: 'ok ' }), 'data: {not json\n\n'] });
    const res = await chat('gpt-4o', true);
    expect(contentOf(res.text)).toBe('ok ');
    expect(res.text).toContain('malformed stream chunk');
  });

  it('a refused connection is retried and falls back', async () => {
    await gateway();
    await primary.stop();
    backup.handler = () => ({ sse: textChunks('still here') });
    expect(JSON.parse((await chat()).text).choices[0].message.content).toBe('still here');
    primary = await new FakeUpstream().start(); // for afterEach
  });

  it('fallback.enabled: false sends the first failure to the client', async () => {
    await gateway({ fallbackEnabled: false });
    primary.handler = () => ({ status: 503, headers: { 'retry-after': '3' }, json: { error: { message: 'overloaded' } } });
    backup.handler = () => ({ sse: textChunks('unused') });
    const res = await chat();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(primary.chats).toHaveLength(1);
    expect(backup.chats).toHaveLength(0);
  });
});

describe('client disconnect', () => {
  it('closes the upstream connection within 1 s of the client leaving', async () => {
    await gateway();
    primary.handler = () => ({ sse: [rawChunk({ content: 'first' }), { delayMs: 10_000 }] });
    const controller = new AbortController();
    const res = await fetch(`${t!.gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const left = performance.now();
    controller.abort();
    await waitFor(() => primary.chats[0]?.closedAt !== undefined, 1000);
    expect(primary.chats[0]!.closedAt! - left).toBeLessThan(1000);
    await waitFor(() => inflightCount(t!.gw.app) === 0, 1000); // nothing left counted as running
  });
});

describe('g4f extras', () => {
  it('GET /admin/g4f/providers shows the g4f server list', async () => {
    await gateway();
    primary.handler = (r) => (r.path === '/v1/providers' ? { status: 200, json: [{ id: 'PollinationsAI', models: ['gpt-4o'] }] } : { status: 404, json: {} });
    const res = await fetch(`${t!.gw.url}/admin/g4f/providers`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ id: 'PollinationsAI', models: ['gpt-4o'] }]);
    expect(primary.received.at(-1)!.headers['g4f-api-key']).toBe('g4f-secret-key-000');
  });

  it('discovers models from the upstream and routes them', async () => {
    await gateway({ g4f: '  discover_models: true\n' });
    primary.handler = (r) => (r.path === '/v1/models' ? { status: 200, json: { object: 'list', data: [{ id: 'grok-4' }, { id: 'kimi-k2' }] } } : { sse: textChunks('discovered works') });
    const list = async () => ((await (await fetch(`${t!.gw.url}/v1/models`, { headers: auth })).json()) as { data: Array<{ id: string; owned_by: string }> }).data;
    await list(); // the first listing starts discovery
    await waitFor(async () => (await list()).some((m) => m.id === 'kimi-k2'), 2000);
    expect((await list()).find((m) => m.id === 'kimi-k2')?.owned_by).toBe('g4f');
    expect(JSON.parse((await chat('kimi-k2')).text).choices[0].message.content).toBe('discovered works');
  });
});

/** A minimal SOCKS5 server (no auth, CONNECT only) that records where it connected. */
async function socks5(seen: string[]): Promise<{ url: string; close(): void }> {
  const server = createNetServer((client) => {
    client.once('data', () => {
      client.write(Buffer.from([5, 0])); // version 5, no authentication
      client.once('data', (request) => {
        const type = request[3];
        let host = '';
        let offset = 4;
        if (type === 1) {
          host = [...request.subarray(4, 8)].join('.');
          offset = 8;
        } else if (type === 3) {
          host = request.subarray(5, 5 + request[4]!).toString();
          offset = 5 + request[4]!;
        }
        const port = request.readUInt16BE(offset);
        seen.push(`${host}:${port}`);
        const upstream = connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `socks5://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('proxies', () => {
  it('sends upstream traffic through a configured SOCKS5 proxy', async () => {
    const seen: string[] = [];
    const proxy = await socks5(seen);
    try {
      await gateway({ g4f: `  proxy: ${proxy.url}\n` });
      primary.handler = () => ({ sse: textChunks('via socks') });
      expect(JSON.parse((await chat()).text).choices[0].message.content).toBe('via socks');
      expect(seen).toEqual([new URL(primary.url).host]);
    } finally {
      proxy.close();
    }
  });

  it('sends upstream traffic through a configured HTTP proxy (CONNECT)', async () => {
    const proxy = await connectProxy();
    try {
      await gateway({ g4f: `  proxy: ${proxy.url}\n` });
      primary.handler = () => ({ sse: textChunks('via proxy') });
      expect(JSON.parse((await chat()).text).choices[0].message.content).toBe('via proxy');
      expect(proxy.seen).toEqual([new URL(primary.url).host]);
    } finally {
      proxy.close();
    }
  });
});

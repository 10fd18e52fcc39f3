import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/gateway-error.js';
import { drain } from '../../src/http/lifecycle.js';
import { appFor, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/gateway.js';
import { ScriptedProvider, registryWith, scripts } from '../helpers/scripted-provider.js';

const CONFIG = (extra = '') => `g4f:\n  models: ["gpt-*", "claude-*"]\n  fallback:\n    enabled: false\ngemini:\n  enabled: false\n${extra}`;
const FAST = 'server:\n  sse_ping_interval: 0.1\n  sse_commit_after: 0.05\n';

let t: TestApp | undefined;
afterEach(async () => {
  // drain() (not app.close()) also closes the spare connection a client opens after an abort.
  if (t) await drain(t.app, 2000);
  t = undefined;
});

async function setup(extra = '') {
  const provider = new ScriptedProvider('g4f');
  t = await appFor(CONFIG(extra), { providers: registryWith(provider) });
  return { app: t.app, provider, output: t.output };
}

const anthropicBody = (stream = true) => ({ model: 'claude-x', max_tokens: 100, stream, messages: [{ role: 'user', content: 'hi' }] });
const chatBody = (stream = true) => ({ model: 'gpt-x', stream, messages: [{ role: 'user', content: 'hi' }] });

describe('keep-alive and commit rules', () => {
  it('sends pings while the upstream is silent (Anthropic ping events, SSE comments for OpenAI)', async () => {
    const { app, provider } = await setup(FAST);
    provider.script = [{ type: 'text-delta', text: 'a' }, { wait: 450 }, { type: 'text-delta', text: 'b' }, { type: 'finish', reason: 'stop' }];
    const anthropic = await app.inject({ method: 'POST', url: '/v1/messages', payload: anthropicBody() });
    expect(anthropic.body.match(/event: ping\ndata: {"type":"ping"}/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    const chat = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(chat.body.match(/^: ping$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(chat.body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('commits a silent stream after sse_commit_after, then reports a later failure in-stream', async () => {
    const { app, provider } = await setup(FAST);
    provider.script = [{ wait: 300 }, { throw: new GatewayError('upstream_unavailable', 'gone') }];
    const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: anthropicBody() });
    expect(res.statusCode).toBe(200);
    const events = [...res.body.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events[0]).toBe('message_start');
    expect(events).toContain('ping');
    expect(events.at(-1)).toBe('error');
    expect(res.body).toContain('"type":"api_error","message":"gone"');
  });

  it('answers with the HTTP status when the upstream fails before the first event', async () => {
    const { app, provider } = await setup();
    provider.script = scripts.errorBeforeOutput();
    const res = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody() });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json().error.type).toBe('rate_limit_error');
  });
});

describe('stream or not', () => {
  it('is decided by the body, never by Accept', async () => {
    const { app, provider } = await setup();
    provider.script = scripts.text();
    const json = await app.inject({ method: 'POST', url: '/v1/messages', headers: { accept: 'text/event-stream' }, payload: anthropicBody(false) });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json().content[0].text).toBe('Hi there!');
    provider.script = scripts.text();
    const sse = await app.inject({ method: 'POST', url: '/v1/messages', headers: { accept: 'application/json' }, payload: anthropicBody(true) });
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
  });
});

describe('client disconnect', () => {
  it('aborts the upstream within 1 s of the client leaving', async () => {
    const { app, provider } = await setup(FAST);
    provider.script = [{ type: 'text-delta', text: 'first' }, { wait: 30_000 }, { type: 'finish', reason: 'stop' }];
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(anthropicBody()), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const left = Date.now();
    controller.abort();
    await waitFor(() => provider.calls[0]!.context.signal.aborted, 1000);
    expect(Date.now() - left).toBeLessThan(1000);
    await waitFor(() => provider.aborted === 1, 1000);
  });
});

describe('routing errors', () => {
  it('answers an unknown model with 404 model_not_found in each protocol', async () => {
    const { app } = await setup();
    const chat = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { ...chatBody(), model: 'mystery-1' } });
    expect(chat.statusCode).toBe(404);
    expect(chat.json().error).toMatchObject({ code: 'model_not_found', param: 'model' });
    const messages = await app.inject({ method: 'POST', url: '/v1/messages', payload: { ...anthropicBody(), model: 'mystery-1' } });
    expect(messages.statusCode).toBe(404);
    expect(messages.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('answers a WebSocket upgrade on GET /v1/responses with 426 so Codex falls back to HTTP', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/v1/responses', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13' } });
    expect(res.statusCode).toBe(426);
    expect(res.json().error.code).toBe('websocket_not_supported');
  });
});

describe('Responses previous_response_id', () => {
  it('continues a stored conversation and sends the whole history upstream', async () => {
    const { app, provider } = await setup();
    provider.script = scripts.textThenToolCall();
    const first = await app.inject({ method: 'POST', url: '/v1/responses', payload: { model: 'gpt-x', input: 'weather in Oslo?' } });
    const id = first.json().id as string;
    const call = first.json().output[1];
    provider.script = scripts.text('Sunny.');
    const second = await app.inject({
      method: 'POST',
      url: '/v1/responses',
      payload: { model: 'gpt-x', previous_response_id: id, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}' }] },
    });
    expect(second.statusCode).toBe(200);
    expect(second.json().previous_response_id).toBe(id);
    const sent = provider.calls[1]!.request.messages;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(sent[1]!.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_call', id: 'call_xyz', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
  });

  it('answers an unknown previous_response_id with 404, and store:false keeps nothing', async () => {
    const { app, provider } = await setup();
    provider.script = scripts.text();
    const unstored = await app.inject({ method: 'POST', url: '/v1/responses', payload: { model: 'gpt-x', input: 'hi', store: false } });
    const res = await app.inject({ method: 'POST', url: '/v1/responses', payload: { model: 'gpt-x', previous_response_id: unstored.json().id, input: 'again' } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'previous_response_not_found', param: 'previous_response_id' });
  });
});

describe('usage and the request log', () => {
  it('estimates usage with the tokenizer when the upstream reports none, and logs it', async () => {
    const { app, provider, output } = await setup();
    provider.script = [{ type: 'text-delta', text: 'Hello there, how are you today?' }, { type: 'finish', reason: 'stop' }];
    const res = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { ...chatBody(false), messages: [{ role: 'user', content: 'Say hello politely please.' }] } });
    const usage = res.json().usage;
    expect(usage.prompt_tokens).toBeGreaterThan(3);
    expect(usage.prompt_tokens).toBeLessThan(20);
    expect(usage.completion_tokens).toBe(8);
    const line = output.lines().find((l) => l.path === '/v1/chat/completions');
    expect(line).toMatchObject({ model: 'gpt-x', provider: 'g4f', tokens: { input: usage.prompt_tokens, output: 8 } });
  });

  it('logs stream, time to first byte and tokens for a streamed answer', async () => {
    const { app, provider, output } = await setup();
    provider.script = scripts.text();
    await app.inject({ method: 'POST', url: '/v1/messages', payload: anthropicBody() });
    const line = output.lines().find((l) => l.path === '/v1/messages');
    expect(line).toMatchObject({ model: 'claude-x', provider: 'g4f', stream: true, status: 200, tokens: { input: 24, output: 12 } });
    expect(typeof line!.ttfb_ms).toBe('number');
  });
});

describe('count_tokens', () => {
  it('counts system, messages and tools with a BPE tokenizer', async () => {
    const { app } = await setup();
    const count = async (body: object) => (await app.inject({ method: 'POST', url: '/v1/messages/count_tokens', payload: body })).json().input_tokens as number;
    const base = await count({ model: 'claude-x', messages: [{ role: 'user', content: 'foo' }] });
    expect(base).toBeGreaterThan(0);
    expect(base).toBeLessThan(10);
    const withTools = await count({
      model: 'claude-x',
      messages: [{ role: 'user', content: 'foo' }],
      tools: [{ name: 'Bash', description: 'Run a shell command in the workspace', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
    });
    expect(withTools).toBeGreaterThan(base + 10);
    const capture = JSON.parse(readFileSync('test/fixtures/clients/claude-code_06_count_tokens.json', 'utf8'));
    const { 'content-length': _length, host: _host, ...headers } = capture.headers;
    const fromClaudeCode = await app.inject({ method: 'POST', url: '/v1/messages/count_tokens?beta=true', headers, payload: capture.body });
    expect(fromClaudeCode.statusCode).toBe(200);
    expect(fromClaudeCode.json().input_tokens).toBeGreaterThan(100);
  });

  it('rejects a body without messages in the Anthropic envelope', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'POST', url: '/v1/messages/count_tokens', payload: { model: 'claude-x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'messages: required' } });
  });
});

describe('one finish per stream (core/event-contract.ts)', () => {
  const call = [
    { type: 'tool-call-start' as const, index: 0, id: 'call_1', name: 'get_weather' },
    { type: 'tool-call-delta' as const, index: 0, argumentsDelta: '{"city":"Paris"}' },
    { type: 'tool-call-end' as const, index: 0 },
  ];

  it('turns "stop" after tool calls (said twice) into one tool_use / tool_calls finish', async () => {
    const { app, provider } = await setup();
    provider.script = [...call, { type: 'finish', reason: 'stop' }, { type: 'finish', reason: 'stop' }];
    const sse = (await app.inject({ method: 'POST', url: '/v1/messages', payload: anthropicBody(true) })).body;
    expect(sse.match(/"stop_reason":"[a-z_]+"/g)).toEqual(['"stop_reason":"tool_use"']);
    provider.script = [...call, { type: 'finish', reason: 'stop' }, { type: 'finish', reason: 'stop' }];
    const json = (await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody(false) })).json() as { choices: Array<{ finish_reason: string }> };
    expect(json.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('gives a stream without any finish exactly one: "stop" after text', async () => {
    const { app, provider } = await setup();
    provider.script = [{ type: 'text-delta', text: 'cut short' }];
    const sse = (await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: chatBody(true) })).body;
    expect(sse.match(/"finish_reason":"[a-z_]+"/g)).toEqual(['"finish_reason":"stop"']);
    expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('keeps the last of several finishes the upstream sent', async () => {
    const { app, provider } = await setup();
    provider.script = [{ type: 'text-delta', text: 'long' }, { type: 'finish', reason: 'stop' }, { type: 'finish', reason: 'length' }];
    const json = (await app.inject({ method: 'POST', url: '/v1/responses', payload: { model: 'gpt-x', input: 'hi' } })).json() as { status: string; incomplete_details: unknown };
    expect(json.status).toBe('incomplete');
    expect(json.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});

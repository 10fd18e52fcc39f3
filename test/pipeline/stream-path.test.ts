// The streaming fast path (issue: speed and memory): plain text chunks are recognised without a
// parse and must give exactly what the full path gives; a stream is written in one socket write
// per upstream read, not one per event.
import { ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/core/types.js';
import { decodeResponsesRequest } from '../../src/protocols/openai-responses/decode.js';
import { responsesAdapter } from '../../src/protocols/openai-responses/encode.js';
import { ChunkMapper, parseChunk, plainTextDelta } from '../../src/providers/openai-compatible/stream.js';
import { FakeUpstream } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: null }], ...extra });

/** Events without the optional `json` literal (the full path never sets it). */
const plain = (events: ChatEvent[]) => events.map((e) => (e.type === 'text-delta' ? { type: e.type, text: e.text } : e));

describe('plain text chunks', () => {
  it('are taken by the scan for ordinary text, with the literal JSON.stringify would write', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (text) => {
        const event = plainTextDelta(chunk({ content: text }));
        expect(event).toEqual({ type: 'text-delta', text, json: JSON.stringify(text) });
      }),
      { numRuns: 500 },
    );
  });

  it('give the same events as parse + map for any text, escapes and shapes included', () => {
    const texts = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('a\\u00e9b', 'x/y', '"quoted"', 'line\nbreak', '\u2028', ''));
    const shapes = fc.constantFrom<Array<(t: string) => string>>(
      (t) => chunk({ content: t }),
      (t) => chunk({ role: 'assistant', content: t }),
      (t) => chunk({ content: t }, { usage: null }),
      (t) => chunk({ content: t }, { usage: { prompt_tokens: 3, completion_tokens: 4 } }),
      (t) => chunk({ content: t }, { system_fingerprint: 'fp_1', obfuscation: 'abc' }),
      (t) => JSON.stringify({ choices: [{ index: 0, delta: { content: t }, finish_reason: 'stop' }] }),
      (t) => JSON.stringify({ choices: [{ index: 0, delta: { content: t }, logprobs: null, finish_reason: null }] }),
      (t) => chunk({ content: t, tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: '{}' } }] }),
      // an upstream that escapes what JSON.stringify would not (\u00e9, \/): same text either way
      (t) => chunk({ content: t }).replace(/é/g, '\\u00e9').replace(/\//g, '\\/'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(shapes, texts), { minLength: 1, maxLength: 6 }), (items) => {
        const fast = new ChunkMapper();
        const full = new ChunkMapper();
        const viaScan: ChatEvent[] = [];
        const viaParse: ChatEvent[] = [];
        for (const [shape, text] of items) {
          const payload = shape(text);
          fast.mapPayload(payload, viaScan);
          viaParse.push(...full.map(parseChunk(payload)));
        }
        viaScan.push(...fast.end());
        viaParse.push(...full.end());
        expect(plain(viaScan)).toEqual(viaParse);
        for (const e of viaScan) if (e.type === 'text-delta' && e.json !== undefined) expect(e.json).toBe(JSON.stringify(e.text));
      }),
      { numRuns: 400 },
    );
  });

  it('are written by the Responses encoder as the generic event writer would, literal or not', () => {
    const { chat, extras } = decodeResponsesRequest({ model: 'm', input: 'hi', stream: true });
    const adapter = responsesAdapter(extras);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary', minLength: 1 }), fc.boolean()), { minLength: 1, maxLength: 4 }), (deltas) => {
        const encoder = adapter.createEncoder({ id: 'resp_x', model: 'm', created: 1 }, chat);
        encoder.start();
        let itemId: string | undefined;
        let sequence = -1;
        for (const [text, literal] of deltas) {
          const out = encoder.event({ type: 'text-delta', text, ...(literal ? { json: JSON.stringify(text) } : {}) });
          const events = out.split('\n\n').filter(Boolean);
          const last = events[events.length - 1]!;
          const data = JSON.parse(last.slice(last.indexOf('data: ') + 6)) as { sequence_number: number; item_id: string };
          itemId ??= data.item_id;
          expect(data.sequence_number).toBeGreaterThan(sequence);
          sequence = data.sequence_number;
          const expected = { type: 'response.output_text.delta', sequence_number: sequence, item_id: itemId, output_index: 0, content_index: 0, delta: text, logprobs: [] };
          expect(last + '\n\n').toBe(`event: response.output_text.delta\ndata: ${JSON.stringify(expected)}\n\n`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('start with the bytes the generic event writer gives for created and in_progress (the response serialized once)', () => {
    const requests = [
      { model: 'm', input: 'hi', stream: true },
      { model: 'm', input: 'hi', stream: true, instructions: 'Be "brief".\n', max_output_tokens: 50, temperature: 0.2, top_p: 0.9, metadata: { a: 'b' }, store: false, previous_response_id: 'resp_1' },
      { model: 'm', input: 'hi', stream: true, tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }], tool_choice: 'required', parallel_tool_calls: false, reasoning: { effort: 'high' }, text: { format: { type: 'json_object' } } },
    ];
    for (const body of requests) {
      const { chat, extras } = decodeResponsesRequest(body);
      const meta = { id: 'resp_x', model: 'm', created: 1 };
      const out = responsesAdapter(extras).createEncoder(meta, chat).start();
      const [created, inProgress] = out.split('\n\n').filter(Boolean).map((event) => JSON.parse(event.slice(event.indexOf('data: ') + 6)) as { response: unknown });
      const response = created!.response;
      expect(inProgress!.response).toEqual(response);
      expect((response as { status: string }).status).toBe('in_progress');
      const generic = (type: string, sequence: number) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, response })}\n\n`;
      expect(out).toBe(generic('response.created', 0) + generic('response.in_progress', 1));
    }
  });

  it('leave chunks that need repair or carry errors to the full path', () => {
    expect(plainTextDelta(chunk({ content: 'x' }, { error: { message: 'boom' } }))).toBeUndefined();
    expect(plainTextDelta(chunk({ reasoning: 'x' }))).toBeUndefined();
    expect(plainTextDelta(JSON.stringify({ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] }))).toBeUndefined();
    expect(plainTextDelta(chunk({ content: 'x', tool_calls: [] }))).toBeUndefined();
    expect(plainTextDelta(chunk({ content: '' }))).toBeNull();
  });
});

describe('the stream path', () => {
  let upstream: FakeUpstream | undefined;
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.stop();
    await upstream?.stop();
    t = upstream = undefined;
  });

  it('writes an upstream read of ten chunks to the client in one write, and the end in one more', async () => {
    upstream = await new FakeUpstream().start();
    const body = Array.from({ length: 10 }, (_, i) => `data: ${chunk({ content: `tok${i} ` })}\n\n`).join('') +
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 10 } })}\n\n`;
    upstream.handler = () => ({ sse: [body] }); // one write: one read on our side
    t = await startTestGateway(`auth:\n  bearer_token: tok-stream-path-0000\ngemini:\n  enabled: false\ng4f:\n  base_url: ${upstream.url}/v1\n  models: ["gpt-*"]\n`);
    const port = Number(new URL(t.gw.url).port);
    const writes: string[] = [];
    const originalWrite = ServerResponse.prototype.write;
    const originalEnd = ServerResponse.prototype.end;
    const ours = (res: ServerResponse) => res.socket?.localPort === port && res.req.url === '/v1/chat/completions';
    ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
      if (ours(this)) writes.push(String(args[0]));
      return (originalWrite as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof originalWrite;
    ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
      if (ours(this) && typeof args[0] !== 'function' && args[0] !== undefined) writes.push(`end:${String(args[0])}`);
      return (originalEnd as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof originalEnd;
    try {
      const res = await fetch(`${t.gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok-stream-path-0000', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.text();
      expect(text.match(/"content":"tok\d /g)).toHaveLength(10);
      expect(text).toContain('"completion_tokens":10');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      // the role chunk and all ten deltas together; then finish, usage and [DONE] together
      expect(writes).toHaveLength(2);
      expect(writes[0]!.match(/"content":"tok\d /g)).toHaveLength(10);
      expect(writes[1]).toContain('[DONE]');
    } finally {
      ServerResponse.prototype.write = originalWrite;
      ServerResponse.prototype.end = originalEnd;
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/gateway-error.js';
import type { ChatEvent } from '../../src/core/types.js';
import { ChunkMapper, parseChunk, readSse } from '../../src/providers/openai-compatible/stream.js';
import { settle } from '../helpers/settle.js';

async function payloads(parts: Array<Buffer | string>): Promise<string[]> {
  const out: string[] = [];
  for await (const p of readSse((async function* () { yield* parts; })())) out.push(p);
  return out;
}

function run(chunks: Array<Record<string, unknown>>): ChatEvent[] {
  const mapper = new ChunkMapper();
  return settle([...chunks.flatMap((c) => mapper.map(c)), ...mapper.end()]);
}

const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ choices: [{ index: 0, delta: d, finish_reason: finish }] });

describe('SSE reader', () => {
  const stream = 'data: {"a":"héllo 世界 🎉"}\n\n: keep-alive comment\n\nevent: x\ndata: {"b":1}\r\n\r\ndata: [DONE]\n\ndata: {"after":"done"}\n\n';

  it('yields data payloads and stops at [DONE]', async () => {
    expect(await payloads([stream])).toEqual(['{"a":"héllo 世界 🎉"}', '{"b":1}']);
  });

  it('gives the same payloads for any split of the bytes, inside multi-byte characters too', async () => {
    const bytes = Buffer.from(stream, 'utf8');
    const expected = await payloads([bytes]);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 20 }), async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const parts = points.slice(1).map((end, i) => bytes.subarray(points[i]!, end));
        expect(await payloads(parts)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads a last event without a trailing blank line', async () => {
    expect(await payloads(['data: {"x":1}'])).toEqual(['{"x":1}']);
  });
});

describe('chunk repair', () => {
  it('maps content, reasoning, tool calls, finish and usage', () => {
    expect(
      run([
        delta({ role: 'assistant', reasoning_content: 'hmm' }),
        delta({ content: 'Hi' }),
        delta({ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
        delta({}, 'tool_calls'),
        { choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, completion_tokens_details: { reasoning_tokens: 1 } } },
      ]),
    ).toEqual([
      { type: 'thinking-delta', text: 'hmm' },
      { type: 'text-delta', text: 'Hi' },
      { type: 'tool-call-start', index: 0, id: 'c1', name: 'f' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
      { type: 'tool-call-end', index: 0 },
      { type: 'usage', usage: { inputTokens: 5, outputTokens: 3, reasoningTokens: 1 } },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('repairs tool calls without index, with object arguments, and "stop" after tool calls', () => {
    const events = run([
      delta({ tool_calls: [{ id: 'a', function: { name: 'one', arguments: { x: 1 } } }] }),
      delta({ tool_calls: [{ id: 'b', function: { name: 'two' } }] }),
      delta({ tool_calls: [{ function: { arguments: '{"y":' } }] }),
      delta({ tool_calls: [{ function: { arguments: '2}' } }] }),
      delta({}, 'stop'),
    ]);
    expect(events).toEqual([
      { type: 'tool-call-start', index: 0, id: 'a', name: 'one' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"x":1}' },
      { type: 'tool-call-start', index: 1, id: 'b', name: 'two' },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '{"y":' },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '2}' },
      { type: 'tool-call-end', index: 0 },
      { type: 'tool-call-end', index: 1 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('holds arguments that arrive before the name, and invents a missing call id', () => {
    const events = run([delta({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }), delta({ tool_calls: [{ index: 0, function: { name: 'search', arguments: '"x"}' } }] })]);
    expect(events[0]).toMatchObject({ type: 'tool-call-start', index: 0, name: 'search', id: expect.stringMatching(/^call_/) });
    expect(events.filter((e) => e.type === 'tool-call-delta').map((e) => (e as { argumentsDelta: string }).argumentsDelta).join('')).toBe('{"q":"x"}');
  });

  it('ends a stream that has no finish_reason and no usage', () => {
    expect(run([delta({ content: 'cut' })])).toEqual([{ type: 'text-delta', text: 'cut' }, { type: 'finish', reason: 'stop' }]);
  });

  it('turns an error payload into a GatewayError, usage limits as rate_limited', () => {
    const mapper = new ChunkMapper();
    expect(() => mapper.map({ error: { message: 'Rate limit exceeded for this provider' } })).toThrow(GatewayError);
    try {
      mapper.map({ error: 'You exceeded your current quota' });
    } catch (error) {
      expect((error as GatewayError).kind).toBe('rate_limited');
    }
  });

  it('rejects a malformed chunk', () => {
    expect(() => parseChunk('{"choices": [')).toThrow(/malformed stream chunk/);
  });
});

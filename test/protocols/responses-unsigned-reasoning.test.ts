// Reasoning the upstream did not sign (Gemini thoughts) still gets an `encrypted_content` on the
// Responses API, so stateless clients replay it as reasoning (Qwen Code 0.24 turns an item without
// one into an assistant message); decoding drops the placeholder again.
import { describe, expect, it } from 'vitest';
import { decodeResponsesRequest, UNSIGNED_REASONING } from '../../src/protocols/openai-responses/decode.js';
import { responsesAdapter } from '../../src/protocols/openai-responses/encode.js';

const body = { model: 'm', input: 'hi', stream: true };
const meta = { id: 'resp_test', model: 'm', created: 1 };

function reasoningItems(sse: string): Array<Record<string, unknown>> {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as { type: string; item?: Record<string, unknown> })
    .filter((e) => e.type === 'response.output_item.done' && e.item?.type === 'reasoning')
    .map((e) => e.item!);
}

describe('Responses reasoning without an upstream signature', () => {
  const { chat, extras } = decodeResponsesRequest(body);
  const adapter = responsesAdapter(extras);

  it('streams encrypted_content = the placeholder; a signed one keeps its signature', () => {
    const encoder = adapter.createEncoder(meta, chat);
    let sse = encoder.start();
    sse += encoder.event({ type: 'thinking-delta', text: 'Thinking.' });
    sse += encoder.event({ type: 'text-delta', text: 'Answer.' });
    sse += encoder.event({ type: 'finish', reason: 'stop' });
    sse += encoder.end();
    expect(reasoningItems(sse)).toEqual([expect.objectContaining({ summary: [{ type: 'summary_text', text: 'Thinking.' }], encrypted_content: UNSIGNED_REASONING })]);

    const signed = adapter.createEncoder(meta, chat);
    let out = signed.start();
    out += signed.event({ type: 'thinking-delta', text: 'Thinking.' });
    out += signed.event({ type: 'thinking-signature', signature: 'c2ln' });
    out += signed.event({ type: 'finish', reason: 'stop' });
    out += signed.end();
    expect(reasoningItems(out)[0]!.encrypted_content).toBe('c2ln');
  });

  it('sets it in the non-streaming response too', () => {
    const response = adapter.encodeResult({ blocks: [{ type: 'thinking', text: 'Thinking.' }, { type: 'text', text: 'Answer.' }], finish: 'stop' }, meta, chat) as { output: Array<Record<string, unknown>> };
    expect(response.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: UNSIGNED_REASONING });
  });

  it('decodes a replayed item with the placeholder as thinking without a signature', () => {
    const replay = decodeResponsesRequest({
      model: 'm',
      input: [
        { type: 'message', role: 'user', content: 'hi' },
        { type: 'reasoning', id: 'rs_1', encrypted_content: UNSIGNED_REASONING, summary: [{ type: 'summary_text', text: 'Thinking.' }] },
        { type: 'reasoning', id: 'rs_2', encrypted_content: 'c2ln', summary: [] },
        { type: 'message', role: 'assistant', content: 'Answer.' },
        { type: 'message', role: 'user', content: 'more' },
      ],
    });
    expect(replay.chat.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', text: 'Thinking.' },
        { type: 'thinking', text: '', signature: 'c2ln' },
        { type: 'text', text: 'Answer.' },
      ],
    });
  });
});

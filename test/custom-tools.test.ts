import { describe, expect, it } from 'vitest';
import { restoreCustomToolCalls, withCustomToolsAsFunctions } from '../src/core/custom-tools.js';
import type { ChatEvent, ChatRequest } from '../src/core/types.js';

const PATCH = '*** Begin Patch\n*** Add File: a.txt\n+hi "there"\n*** End Patch\n';

const request: ChatRequest = {
  model: 'm',
  system: [],
  stream: true,
  toolChoice: { type: 'auto' },
  tools: [
    { name: 'exec_command', parameters: { type: 'object' } },
    { name: 'apply_patch', kind: 'custom', description: 'Edit files.', grammar: { syntax: 'lark', definition: 'start: begin_patch' } },
  ],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'edit' }] },
    { role: 'assistant', content: [{ type: 'tool_call', kind: 'custom', id: 'c1', name: 'apply_patch', arguments: PATCH }] },
    { role: 'tool', content: [{ type: 'tool_result', callId: 'c1', content: [{ type: 'text', text: 'ok' }] }] },
  ],
};

async function all(events: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const out: ChatEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

async function* from(events: ChatEvent[]): AsyncIterable<ChatEvent> {
  yield* events;
}

describe('custom tools on function-only upstreams', () => {
  it('presents custom tools as a function with one string argument, past calls included', () => {
    const { request: up, customNames } = withCustomToolsAsFunctions(request);
    expect([...customNames]).toEqual(['apply_patch']);
    expect(up.tools[1]).toEqual({
      name: 'apply_patch',
      description: 'Edit files.\n\nThe input must follow this lark grammar:\nstart: begin_patch',
      parameters: expect.objectContaining({ required: ['input'] }),
    });
    expect(up.messages[1]!.content[0]).toEqual({ type: 'tool_call', id: 'c1', name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) });
    expect(request.messages[1]!.content[0]).toMatchObject({ kind: 'custom' }); // the original is untouched
  });

  it('turns the function call back into a custom call with the raw input', async () => {
    const args = JSON.stringify({ input: PATCH });
    const events = await all(
      restoreCustomToolCalls(
        from([
          { type: 'text-delta', text: 'Patching.' },
          { type: 'tool-call-start', index: 0, id: 'call_1', name: 'apply_patch' },
          { type: 'tool-call-delta', index: 0, argumentsDelta: args.slice(0, 10) },
          { type: 'tool-call-delta', index: 0, argumentsDelta: args.slice(10) },
          { type: 'tool-call-end', index: 0 },
          { type: 'tool-call-start', index: 1, id: 'call_2', name: 'exec_command' },
          { type: 'tool-call-delta', index: 1, argumentsDelta: '{"cmd":"ls"}' },
          { type: 'tool-call-end', index: 1 },
          { type: 'finish', reason: 'tool_calls' },
        ]),
        new Set(['apply_patch']),
      ),
    );
    expect(events).toEqual([
      { type: 'text-delta', text: 'Patching.' },
      { type: 'tool-call-start', index: 0, id: 'call_1', name: 'apply_patch', kind: 'custom' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: PATCH },
      { type: 'tool-call-end', index: 0 },
      { type: 'tool-call-start', index: 1, id: 'call_2', name: 'exec_command' },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '{"cmd":"ls"}' },
      { type: 'tool-call-end', index: 1 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('keeps raw text when the model did not wrap it in JSON', async () => {
    const events = await all(
      restoreCustomToolCalls(
        from([
          { type: 'tool-call-start', index: 0, id: 'c', name: 'apply_patch' },
          { type: 'tool-call-delta', index: 0, argumentsDelta: PATCH },
          { type: 'tool-call-end', index: 0 },
        ]),
        new Set(['apply_patch']),
      ),
    );
    expect(events[1]).toEqual({ type: 'tool-call-delta', index: 0, argumentsDelta: PATCH });
  });
});

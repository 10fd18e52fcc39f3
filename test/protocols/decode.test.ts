import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/gateway-error.js';
import { decodeAnthropicRequest } from '../../src/protocols/anthropic/decode.js';
import { decodeChatRequest } from '../../src/protocols/openai-chat/decode.js';
import { decodeResponsesRequest } from '../../src/protocols/openai-responses/decode.js';

const FIXTURES = path.resolve('test/fixtures/clients');

interface Capture {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

const load = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Capture;

function rejects(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('every captured client request decodes', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.startsWith('external'));
  for (const file of files) {
    it(file, () => {
      const capture = load(file);
      if (capture.method !== 'POST') return; // model lists, the WebSocket upgrade
      if (capture.path.endsWith('/count_tokens')) {
        const chat = decodeAnthropicRequest({ ...(capture.body as object), max_tokens: 1 }, capture.headers);
        expect(chat.messages.length).toBeGreaterThan(0);
      } else if (capture.path.endsWith('/messages')) {
        const chat = decodeAnthropicRequest(capture.body, capture.headers);
        expect(chat.model).toBeTruthy();
      } else if (capture.path.endsWith('/chat/completions')) {
        expect(decodeChatRequest(capture.body).messages.length).toBeGreaterThan(0);
      } else if (capture.path.endsWith('/responses')) {
        expect(decodeResponsesRequest(capture.body).chat.messages.length).toBeGreaterThan(0);
      } else {
        throw new Error(`unhandled capture ${capture.path}`);
      }
    });
  }
});

describe('Anthropic decoding (Claude Code)', () => {
  it('maps the first turn: system blocks, mid-conversation system message, tools, thinking, effort, session key', () => {
    const capture = load('claude-code_01_messages_first_turn.json');
    const chat = decodeAnthropicRequest(capture.body, capture.headers);
    expect(chat.model).toBe('claude-opus-4-8');
    expect(chat.stream).toBe(true);
    expect(chat.maxTokens).toBe(64000);
    expect(chat.system).toHaveLength(3);
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'system']);
    expect(chat.tools.length).toBe(24);
    expect(chat.tools.find((t) => t.name === 'Bash')?.parameters).toMatchObject({ type: 'object', required: ['command'] });
    expect(chat.reasoning).toEqual({ enabled: true, effort: 'high' });
    expect(chat.conversationKey).toBe(`claude-code:${capture.headers['x-claude-code-session-id']}`);
  });

  it('keeps echoed thinking with its signature and splits tool results into a tool message', () => {
    const capture = load('claude-code_03_messages_thinking_and_write_followup.json');
    const chat = decodeAnthropicRequest(capture.body, capture.headers);
    const [assistant, tool] = chat.messages.slice(-2);
    expect(assistant!.role).toBe('assistant');
    expect(assistant!.content[0]).toEqual({ type: 'thinking', text: 'Thinking about it.', signature: 'c2lnbmF0dXJl' });
    expect(assistant!.content[2]).toMatchObject({ type: 'tool_call', name: 'Write', arguments: JSON.stringify({ file_path: 'hello.txt', content: 'hello from write\n' }) });
    expect(tool).toEqual({
      role: 'tool',
      content: [{ type: 'tool_result', callId: 'toolu_5q35xn8fo7rqjemhh19', content: [{ type: 'text', text: expect.stringContaining('File created') }] }],
    });
  });

  it('keeps the order of tool results and text in one user message', () => {
    const chat = decodeAnthropicRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'A', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'out' }], is_error: true },
            { type: 'text', text: 'and then?' },
          ],
        },
      ],
    });
    expect(chat.messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'user']);
    expect(chat.messages[1]!.content[0]).toMatchObject({ isError: true });
  });

  it('maps thinking budgets, tool_choice, stop sequences, images and structured output', () => {
    const chat = decodeAnthropicRequest({
      model: 'm',
      max_tokens: 32000,
      thinking: { type: 'enabled', budget_tokens: 31999 },
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
      metadata: { user_id: 'plain-user' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            { type: 'mystery_block', x: 1 },
          ],
        },
      ],
    });
    expect(chat.reasoning).toEqual({ enabled: true, budgetTokens: 31999 });
    expect(chat.toolChoice).toEqual({ type: 'required' });
    expect(chat.parallelToolCalls).toBe(false);
    expect(chat.stop).toEqual(['END']);
    expect(chat.responseFormat).toEqual({ type: 'json_schema', schema: { type: 'object' } });
    expect(chat.conversationKey).toBe('user:plain-user');
    expect(chat.messages[0]!.content).toEqual([
      { type: 'image', mimeType: 'image/png', data: 'iVBORw0KGgo=' },
      { type: 'image', url: 'https://example.com/a.png' },
    ]);
  });

  it('turns the web_search server tool into webSearch (never a function tool) and drops other server tools', () => {
    const chat = decodeAnthropicRequest({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3, allowed_domains: ['example.org'] }, { type: 'code_execution_20250522', name: 'code' }, { name: 'Read', input_schema: { type: 'object' } }],
    });
    expect(chat.tools.map((t) => t.name)).toEqual(['Read']);
    expect(chat.webSearch).toEqual({ maxUses: 3, allowedDomains: ['example.org'] });
    const forced = decodeAnthropicRequest({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'web_search_20260209', name: 'web_search' }],
      tool_choice: { type: 'tool', name: 'web_search' },
    });
    expect(forced.webSearch).toEqual({ forced: true });
    expect(forced.toolChoice).toEqual({ type: 'auto' });
    expect(decodeAnthropicRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).webSearch).toBeUndefined();
  });

  it('names the bad field', () => {
    expect(rejects(() => decodeAnthropicRequest({ model: 'm', messages: [] })).message).toBe('max_tokens: required');
    expect(rejects(() => decodeAnthropicRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'bot', content: 'x' }] })).param).toBe('messages[0].role');
    expect(rejects(() => decodeAnthropicRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'text' }] }] })).message).toBe(
      'messages[0].content[0].text: required',
    );
    expect(rejects(() => decodeAnthropicRequest({ max_tokens: 5, messages: [] })).param).toBe('model');
  });
});

describe('Chat Completions decoding', () => {
  it('maps roles, parts, tools and options', () => {
    const chat = decodeChatRequest({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
        { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'result' },
        { role: 'system', content: 'Late note.' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      max_completion_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      stop: 'STOP',
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
      reasoning_effort: 'low',
      stream: true,
      user: 'u-1',
      some_future_field: { ignored: true },
    });
    expect(chat.system.map((s) => s.text)).toEqual(['Be brief.', 'Use tools.']);
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'system']);
    expect(chat.messages[0]!.content[1]).toEqual({ type: 'image', mimeType: 'image/jpeg', data: '/9j/4AAQ' });
    expect(chat.messages[1]!.content).toEqual([{ type: 'tool_call', id: 'call_1', name: 'f', arguments: '{"a":1}' }]);
    expect(chat.messages[2]!.content[0]).toEqual({ type: 'tool_result', callId: 'call_1', content: [{ type: 'text', text: 'result' }] });
    expect(chat).toMatchObject({
      toolChoice: { type: 'tool', name: 'f' },
      parallelToolCalls: false,
      maxTokens: 100,
      temperature: 0.2,
      topP: 0.9,
      stop: ['STOP'],
      responseFormat: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true },
      reasoning: { effort: 'low' },
      stream: true,
      conversationKey: 'u-1',
    });
  });

  it('refuses n > 1 and names bad fields', () => {
    expect(rejects(() => decodeChatRequest({ model: 'm', n: 2, messages: [{ role: 'user', content: 'x' }] })).message).toBe('n: only n=1 is supported by this gateway');
    expect(rejects(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] })).param).toBe('messages[0].content[0].type');
    expect(rejects(() => decodeChatRequest({ model: 'm', messages: 'hi' })).param).toBe('messages');
    expect(rejects(() => decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 9 })).message).toBe('temperature: must be <= 2');
  });
});

describe('Responses decoding (Codex)', () => {
  it('maps developer messages, reasoning, function calls and outputs', () => {
    const { chat, extras } = decodeResponsesRequest(load('codex_02_responses_function_call_output.json').body);
    expect(chat.system.length).toBeGreaterThanOrEqual(2); // developer messages before the first user turn
    const [assistant, tool] = chat.messages.slice(-2);
    expect(assistant!.content).toEqual([
      { type: 'thinking', text: '**Thinking** about the request.', signature: 'gAAAAAb3BhcXVlLXJlYXNvbmluZy1zdGF0ZQ==' },
      { type: 'tool_call', id: 'call_pdco2kglaerivtvb1a2', name: 'exec_command', arguments: '{"cmd":"echo hello-from-codex"}' },
    ]);
    expect(tool!.content[0]).toMatchObject({ type: 'tool_result', callId: 'call_pdco2kglaerivtvb1a2' });
    expect(chat.tools.map((t) => t.name)).toEqual(['exec_command', 'write_stdin', 'request_user_input', 'apply_patch', 'view_image', 'get_goal', 'create_goal', 'update_goal']);
    expect(chat.tools.find((t) => t.name === 'apply_patch')).toMatchObject({ kind: 'custom', grammar: { syntax: 'lark' } });
    // Codex's default web_search is cached mode (external_web_access: false): no live search asked.
    expect(extras.dropped).toEqual(['tools[8]: hosted tool tool_search', 'tools[9]: hosted tool web_search (external_web_access: false)']);
    expect(chat.webSearch).toBeUndefined();
    expect(chat.conversationKey).toBeTruthy();
    expect(extras.store).toBe(false);
  });

  it('maps custom tool calls and their outputs', () => {
    const { chat } = decodeResponsesRequest(load('codex_03_responses_custom_tool_call_output.json').body);
    const [assistant, tool] = chat.messages.slice(-2);
    expect(assistant!.content.at(-1)).toMatchObject({ type: 'tool_call', kind: 'custom', name: 'apply_patch', arguments: expect.stringContaining('*** Begin Patch') });
    expect(tool!.role).toBe('tool');
  });

  it('accepts a plain string input, instructions and text.format', () => {
    const { chat } = decodeResponsesRequest({
      model: 'gpt-5.5',
      instructions: 'Be terse.',
      input: 'hi',
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'high', summary: 'auto' },
      max_output_tokens: 50,
    });
    expect(chat.system).toEqual([{ type: 'text', text: 'Be terse.' }]);
    expect(chat.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(chat.responseFormat).toMatchObject({ type: 'json_schema', name: 'out' });
    expect(chat.reasoning).toEqual({ effort: 'high' });
    expect(chat.maxTokens).toBe(50);
  });

  it('names bad fields', () => {
    expect(rejects(() => decodeResponsesRequest({ model: 'm', input: [] })).param).toBe('input');
    expect(rejects(() => decodeResponsesRequest({ model: 'm', input: [{ type: 'message', role: 'user', content: [{ type: 'input_image' }] }] })).param).toBe(
      'input[0].content[0].image_url',
    );
  });
});

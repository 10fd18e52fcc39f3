// Custom (freeform) tools, such as Codex's apply_patch, take raw text instead of JSON arguments.
// Upstreams with only function calling see them as a function with one string argument `input`;
// these helpers translate a request on the way up and the calls on the way back, so clients
// get real custom tool calls (Responses `custom_tool_call`). Used by the OpenAI-compatible
// provider and by tool emulation (src/tools/emulate.ts), which both present them as functions.

import type { ChatEvent, ChatRequest, ToolDefinition } from './types.js';

const INPUT_SCHEMA = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The raw input text for this tool, exactly as the tool expects it.' } },
  required: ['input'],
  additionalProperties: false,
};

export function customToolAsFunction(tool: ToolDefinition): ToolDefinition {
  const grammar = tool.grammar ? `\n\nThe input must follow this ${tool.grammar.syntax} grammar:\n${tool.grammar.definition}` : '';
  return { name: tool.name, description: `${tool.description ?? ''}${grammar}`.trim(), parameters: INPUT_SCHEMA };
}

/** The request as a function-only upstream must see it: custom tools and their past calls as functions. */
export function withCustomToolsAsFunctions(request: ChatRequest): { request: ChatRequest; customNames: Set<string> } {
  const customNames = new Set(request.tools.filter((t) => t.kind === 'custom').map((t) => t.name));
  if (customNames.size === 0) return { request, customNames };
  return {
    customNames,
    request: {
      ...request,
      tools: request.tools.map((t) => (t.kind === 'custom' ? customToolAsFunction(t) : t)),
      messages: request.messages.map((m) =>
        m.role !== 'assistant' || !m.content.some((p) => p.type === 'tool_call' && p.kind === 'custom')
          ? m
          : {
              ...m,
              content: m.content.map((p) =>
                p.type === 'tool_call' && p.kind === 'custom' ? { type: 'tool_call' as const, id: p.id, name: p.name, arguments: JSON.stringify({ input: p.arguments }) } : p,
              ),
            },
      ),
    },
  };
}

/**
 * Turns function calls of custom tools back into custom calls. Their JSON arguments are held
 * until the call ends (the raw input is only known once the JSON string is complete), then sent
 * as one input delta; every other event passes through untouched and in order.
 */
export function restoreCustomToolCalls(events: AsyncIterable<ChatEvent>, customNames: Set<string>): AsyncIterable<ChatEvent> {
  // Without custom tools there is nothing to restore: no extra generator on the hot path.
  return customNames.size === 0 ? events : restore(events, customNames);
}

async function* restore(events: AsyncIterable<ChatEvent>, customNames: Set<string>): AsyncIterable<ChatEvent> {
  const held = new Map<number, string>();
  for await (const event of events) {
    if (event.type === 'tool-call-start' && customNames.has(event.name)) {
      held.set(event.index, '');
      yield { ...event, kind: 'custom' };
    } else if (event.type === 'tool-call-delta' && held.has(event.index)) {
      held.set(event.index, held.get(event.index)! + event.argumentsDelta);
    } else if (event.type === 'tool-call-end' && held.has(event.index)) {
      const input = rawInput(held.get(event.index)!);
      held.delete(event.index);
      if (input) yield { type: 'tool-call-delta', index: event.index, argumentsDelta: input };
      yield event;
    } else {
      yield event;
    }
  }
}

function rawInput(json: string): string {
  try {
    const value = JSON.parse(json) as unknown;
    if (value && typeof value === 'object' && typeof (value as { input?: unknown }).input === 'string') return (value as { input: string }).input;
    if (typeof value === 'string') return value;
  } catch {
    // not JSON: the model sent the raw text itself
  }
  return json;
}

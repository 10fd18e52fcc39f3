// The tool-calling protocol we teach text-only models, and how history is rendered in it.
//
// A call is a fenced code block tagged `toolcall` holding one JSON object:
//
//   ```toolcall
//   {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}
//   ```
//
// Why this shape (docs/tool-emulation.md): Gemini web post-processes Markdown in answers (it escapes
// [ ] _ * and rewrites fences while streaming). The inside of a code block is left alone, the tag
// has no character Markdown escapes, and JSON keeps argument types (numbers, booleans, arrays,
// objects) where tag-per-parameter formats turn everything into strings.

import type { ToolChoice, ToolDefinition } from '../core/types.js';

export const TAG = 'toolcall';

/** A schema without noise the model does not need ($schema, $id, titles of the root). */
export function trimSchema(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!schema) return { type: 'object', properties: {} };
  const { $schema: _s, $id: _i, title: _t, ...rest } = schema;
  return rest;
}

export function renderCall(name: string, args: unknown): string {
  return `\`\`\`${TAG}\n${JSON.stringify({ name, arguments: args })}\n\`\`\``;
}

export function renderInstructions(tools: ToolDefinition[], choice: ToolChoice, parallel: boolean | undefined): string {
  const lines = [
    '# Tools',
    '',
    'You can call the tools listed below. To call a tool, write a fenced code block tagged `' + TAG + '` that contains exactly one JSON object with the tool name and its arguments:',
    '',
    renderCall('tool_name', { parameter: 'value', count: 2, enabled: true }),
    '',
    'Rules:',
    '- One block per call. ' + (parallel === false ? 'Call at most one tool per answer.' : 'To call several tools at once, write several blocks one after another.'),
    '- The arguments must be valid JSON that matches the tool\'s parameter schema, with real JSON types: numbers, booleans, arrays and objects are not strings.',
    '- After your tool call blocks, stop: write nothing more. The results come back in the next message as "Tool result".',
    '- Never pretend to call a tool, never describe a call instead of making it, never invent a tool result.',
    '- When you need no tool, answer normally without any ' + TAG + ' block.',
  ];
  if (choice.type === 'required') lines.push('- For this answer you must call at least one tool.');
  if (choice.type === 'tool') lines.push(`- For this answer you must call the tool \`${choice.name}\`.`);
  lines.push('', '## Available tools');
  for (const tool of tools) {
    lines.push('', `### ${tool.name}`);
    if (tool.description) lines.push(tool.description.trim());
    lines.push(`Parameters (JSON Schema): ${JSON.stringify(trimSchema(tool.parameters))}`);
  }
  return lines.join('\n');
}

export function renderResult(name: string, callId: string, text: string, isError: boolean): string {
  return `Tool result for ${name} (${callId})${isError ? ' - the tool reported an error' : ''}:\n\`\`\`\n${text.replace(/```/g, '``\u200b`')}\n\`\`\``;
}

export const CORRECTION = {
  invalid: (error: string) =>
    `Your tool call could not be used: ${error}\nReply again with a corrected \`${TAG}\` block (valid JSON, arguments matching the schema) and nothing else.`,
  missing: (choice: ToolChoice) =>
    choice.type === 'tool'
      ? `You must call the tool \`${choice.name}\` now. Reply with a \`${TAG}\` block and nothing else.`
      : `You must call a tool now. Reply with a \`${TAG}\` block and nothing else.`,
};

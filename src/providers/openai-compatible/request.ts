// ChatRequest -> an OpenAI Chat Completions request body. Built from the canonical request (never
// forwarded raw), so every inbound protocol works on every OpenAI-compatible upstream. Always
// streams with usage: one parser serves streaming and non-streaming clients alike.

import type { ChatRequest, ContentPart, ImagePart, Message, ToolResultPart } from '../../core/types.js';

type Json = Record<string, unknown>;

function imageUrl(part: ImagePart): string {
  return part.data !== undefined ? `data:${part.mimeType ?? 'image/png'};base64,${part.data}` : part.url ?? '';
}

function userParts(parts: ContentPart[]): string | Json[] {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => (p as { text: string }).text).join('\n');
  const out: Json[] = [];
  for (const part of parts) {
    if (part.type === 'text') out.push({ type: 'text', text: part.text });
    else if (part.type === 'image') out.push({ type: 'image_url', image_url: { url: imageUrl(part) } });
    else if (part.type === 'file') {
      out.push(
        part.data !== undefined
          ? { type: 'file', file: { filename: part.filename ?? 'file', file_data: `data:${part.mimeType ?? 'application/octet-stream'};base64,${part.data}` } }
          : { type: 'text', text: `[file: ${part.url ?? part.filename ?? 'attachment'}]` },
      );
    }
  }
  return out;
}

function textOf(parts: ContentPart[]): string {
  let text = '';
  for (const part of parts) if (part.type === 'text') text += part.text;
  return text;
}

function toolResultText(result: ToolResultPart): string {
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '[image]')).join('\n');
  return result.isError ? `[tool error] ${text}` : text;
}

function encodeMessage(message: Message, out: Json[]): void {
  switch (message.role) {
    case 'system':
      out.push({ role: 'system', content: textOf(message.content) });
      return;
    case 'user':
      out.push({ role: 'user', content: userParts(message.content) });
      return;
    case 'assistant': {
      // Thinking is not sent back: most upstreams reject or ignore echoed reasoning.
      const calls = message.content.filter((p) => p.type === 'tool_call');
      const msg: Json = { role: 'assistant', content: textOf(message.content) || (calls.length > 0 ? null : '') };
      if (calls.length > 0) {
        msg.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments || '{}' } }));
      }
      out.push(msg);
      return;
    }
    case 'tool': {
      const images: Json[] = [];
      for (const part of message.content) {
        if (part.type !== 'tool_result') continue;
        out.push({ role: 'tool', tool_call_id: part.callId, content: toolResultText(part) });
        for (const c of part.content) if (c.type === 'image') images.push({ type: 'image_url', image_url: { url: imageUrl(c) } });
      }
      // Tool messages carry text only: images a tool returned follow as a user message.
      if (images.length > 0) out.push({ role: 'user', content: [{ type: 'text', text: 'Images returned by the tool call above:' }, ...images] });
      return;
    }
  }
}

export interface BodyOptions {
  /** g4f provider pinning (body field `provider`). */
  provider?: string;
}

export function buildChatBody(request: ChatRequest, upstreamModel: string, options: BodyOptions = {}): Json {
  const messages: Json[] = [];
  if (request.system.length > 0) messages.push({ role: 'system', content: request.system.map((s) => s.text).join('\n\n') });
  for (const message of request.messages) encodeMessage(message, messages);

  const body: Json = { model: upstreamModel, messages, stream: true, stream_options: { include_usage: true } };
  if (request.tools.length > 0 && request.toolChoice.type !== 'none') {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} } },
    }));
    const choice = request.toolChoice;
    body.tool_choice = choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop?.length) body.stop = request.stop;
  const format = request.responseFormat;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (format?.type === 'json_schema') {
    body.response_format = { type: 'json_schema', json_schema: { name: format.name ?? 'response', schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}) } };
  }
  const effort = request.reasoning?.effort;
  if (effort) body.reasoning_effort = effort === 'xhigh' ? 'high' : effort;
  if (options.provider) body.provider = options.provider;
  return body;
}

// OpenAI Responses request -> ChatRequest (what Codex 0.171 sends: developer messages, reasoning
// items with encrypted_content, function and custom tool calls and outputs). The hosted
// `web_search` tool becomes `webSearch` (served by upstreams that search), except Codex's default
// cached mode (`external_web_access: false`). Other hosted tools (tool_search, namespace, ...) and
// unknown item types are dropped and reported for a DEBUG line, never a failure.

import type { ChatRequest, ContentPart, Message, ResponseFormat, ToolChoice, ToolDefinition, ToolResultPart, WebSearchOptions } from '../../core/types.js';
import { decodeEffort } from '../openai-chat/decode.js';
import {
  array,
  imageFromUrl,
  invalid,
  isObject,
  nonEmptyString,
  object,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalString,
  parseDataUrl,
  string,
} from '../validate.js';

/**
 * The `encrypted_content` of reasoning the upstream did not sign (Gemini thoughts, most g4f models).
 * Stateless clients replay a reasoning item as reasoning only when it carries one: Qwen Code 0.24
 * turns a reasoning item without it into an assistant message holding the summary, so the model
 * reads its thoughts as things it said and Gemini conversation reuse no longer recognises the turn.
 * encode.ts sets it; decoding drops it again (it is no signature).
 */
export const UNSIGNED_REASONING = 'gateway:unsigned-reasoning';

export interface ResponsesExtras {
  previousResponseId?: string;
  /** false = do not keep this response for previous_response_id. */
  store: boolean;
  /** Tool definitions as the client sent them, echoed in the response object. */
  tools: unknown[];
  toolChoice: unknown;
  instructions: string | null;
  metadata: unknown;
  reasoningSummary: boolean;
  dropped: string[];
}

export function decodeResponsesRequest(body: unknown): { chat: ChatRequest; extras: ResponsesExtras } {
  const b = object(body, 'body');
  const extras: ResponsesExtras = {
    store: optionalBoolean(b.store, 'store') ?? true,
    tools: Array.isArray(b.tools) ? b.tools : [],
    toolChoice: b.tool_choice ?? 'auto',
    instructions: optionalString(b.instructions, 'instructions') ?? null,
    metadata: isObject(b.metadata) ? b.metadata : {},
    reasoningSummary: false,
    dropped: [],
  };
  const previous = optionalString(b.previous_response_id, 'previous_response_id');
  if (previous) extras.previousResponseId = previous;

  const chat: ChatRequest = {
    model: nonEmptyString(b.model, 'model'),
    system: extras.instructions ? [{ type: 'text', text: extras.instructions }] : [],
    messages: [],
    tools: [],
    toolChoice: decodeToolChoice(b.tool_choice),
    stream: optionalBoolean(b.stream, 'stream') ?? false,
  };
  const search: { options?: WebSearchOptions; images?: boolean } = {};
  chat.tools = decodeTools(b.tools, extras.dropped, search);
  if (search.images) chat.imageOutput = true;
  if (search.options) {
    if (isObject(b.tool_choice) && typeof b.tool_choice.type === 'string' && WEB_SEARCH_TOOLS.has(b.tool_choice.type)) search.options.forced = true;
    chat.webSearch = search.options;
  }

  decodeInput(b.input, chat, extras.dropped);
  if (chat.messages.length === 0 && !previous) throw invalid('input', 'must not be empty');

  const parallel = optionalBoolean(b.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) chat.parallelToolCalls = parallel;
  const maxTokens = optionalInteger(b.max_output_tokens, 'max_output_tokens', 1);
  if (maxTokens !== undefined) chat.maxTokens = maxTokens;
  const temperature = optionalNumber(b.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) chat.temperature = temperature;
  const topP = optionalNumber(b.top_p, 'top_p', 0, 1);
  if (topP !== undefined) chat.topP = topP;
  if (isObject(b.reasoning)) {
    const effort = optionalString(b.reasoning.effort, 'reasoning.effort');
    if (effort) chat.reasoning = decodeEffort(effort, 'reasoning.effort');
    extras.reasoningSummary = b.reasoning.summary !== undefined && b.reasoning.summary !== null;
  }
  if (isObject(b.text) && b.text.format !== undefined) {
    const format = decodeFormat(b.text.format);
    if (format) chat.responseFormat = format;
  }
  const key = optionalString(b.prompt_cache_key, 'prompt_cache_key');
  if (key) chat.conversationKey = key;
  return { chat, extras };
}

function decodeInput(input: unknown, chat: ChatRequest, dropped: string[]): void {
  if (typeof input === 'string') {
    chat.messages.push({ role: 'user', content: [{ type: 'text', text: input }] });
    return;
  }
  let leading = true;
  array(input, 'input').forEach((value, i) => {
    const path = `input[${i}]`;
    const item = object(value, path);
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message': {
        const role = item.role;
        if (role === 'system' || role === 'developer') {
          const text = textContent(item.content, `${path}.content`);
          if (leading) chat.system.push({ type: 'text', text });
          else chat.messages.push({ role: 'system', content: [{ type: 'text', text }] });
          return;
        }
        leading = false;
        if (role === 'user') chat.messages.push({ role: 'user', content: userContent(item.content, `${path}.content`) });
        else if (role === 'assistant') appendAssistant(chat.messages, { type: 'text', text: textContent(item.content, `${path}.content`) });
        else throw invalid(`${path}.role`, 'expected "user", "assistant", "system" or "developer"');
        return;
      }
      case 'function_call':
        leading = false;
        appendAssistant(chat.messages, {
          type: 'tool_call',
          id: nonEmptyString(item.call_id, `${path}.call_id`),
          name: nonEmptyString(item.name, `${path}.name`),
          arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}),
        });
        return;
      case 'custom_tool_call':
        leading = false;
        appendAssistant(chat.messages, {
          type: 'tool_call',
          kind: 'custom',
          id: nonEmptyString(item.call_id, `${path}.call_id`),
          name: nonEmptyString(item.name, `${path}.name`),
          arguments: string(item.input ?? '', `${path}.input`),
        });
        return;
      case 'function_call_output':
      case 'custom_tool_call_output':
        leading = false;
        appendToolResult(chat.messages, {
          type: 'tool_result',
          callId: nonEmptyString(item.call_id, `${path}.call_id`),
          content: toolOutput(item.output, `${path}.output`),
        });
        return;
      case 'reasoning': {
        leading = false;
        const summary = Array.isArray(item.summary)
          ? item.summary.map((s) => (isObject(s) && typeof s.text === 'string' ? s.text : '')).join('\n')
          : '';
        const part: ContentPart = { type: 'thinking', text: summary };
        if (typeof item.encrypted_content === 'string' && item.encrypted_content !== UNSIGNED_REASONING) part.signature = item.encrypted_content;
        appendAssistant(chat.messages, part);
        return;
      }
      default:
        // item_reference, additional_tools, hosted tool call items, ...
        dropped.push(`${path}: ${String(type)} item`);
    }
  });
}

/** Consecutive assistant-side items (reasoning, text, calls) form one assistant turn. */
function appendAssistant(messages: Message[], part: ContentPart): void {
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant') last.content.push(part);
  else messages.push({ role: 'assistant', content: [part] });
}

function appendToolResult(messages: Message[], part: ToolResultPart): void {
  const last = messages[messages.length - 1];
  if (last?.role === 'tool') last.content.push(part);
  else messages.push({ role: 'tool', content: [part] });
}

function textContent(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  return array(value, path)
    .map((part, i) => {
      const p = object(part, `${path}[${i}]`);
      if (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') return string(p.text, `${path}[${i}].text`);
      if (p.type === 'refusal') return string(p.refusal, `${path}[${i}].refusal`);
      throw invalid(`${path}[${i}].type`, `expected a text part, got "${String(p.type)}"`);
    })
    .join('');
}

function userContent(value: unknown, path: string): ContentPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return array(value, path).map((part, i) => decodeInputPart(part, `${path}[${i}]`));
}

function decodeInputPart(value: unknown, path: string): ContentPart {
  const p = object(value, path);
  switch (p.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return { type: 'text', text: string(p.text, `${path}.text`) };
    case 'input_image': {
      const url = optionalString(p.image_url, `${path}.image_url`);
      if (!url) throw invalid(`${path}.image_url`, 'required (file_id images are not supported)');
      return imageFromUrl(url, `${path}.image_url`);
    }
    case 'input_file': {
      const filename = optionalString(p.filename, `${path}.filename`);
      const data = optionalString(p.file_data, `${path}.file_data`);
      const url = optionalString(p.file_url, `${path}.file_url`);
      if (!data && !url) throw invalid(`${path}.file_data`, 'required (file_id uploads are not supported)');
      const inline = data ? parseDataUrl(data) : undefined;
      return {
        type: 'file',
        ...(inline ? { mimeType: inline.mimeType, data: inline.data } : data ? { data } : { url: url! }),
        ...(filename ? { filename } : {}),
      };
    }
    default:
      throw invalid(`${path}.type`, `unsupported content part "${String(p.type)}"`);
  }
}

function toolOutput(value: unknown, path: string): ToolResultPart['content'] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return array(value, path).flatMap((part, i) => {
    const decoded = decodeInputPart(part, `${path}[${i}]`);
    return decoded.type === 'text' || decoded.type === 'image' ? [decoded] : [];
  });
}

/** The hosted search tool's names over time. */
export const WEB_SEARCH_TOOLS = new Set(['web_search', 'web_search_preview', 'web_search_2025_08_26', 'web_search_preview_2025_03_11']);

/** A hosted web search tool -> the options, or undefined for Codex's cached mode (no live search asked). */
export function webSearchOptions(t: Record<string, unknown>, path: string, dropped: string[]): WebSearchOptions | undefined {
  if (t.external_web_access === false) {
    dropped.push(`${path}: hosted tool ${String(t.type)} (external_web_access: false)`);
    return undefined;
  }
  const options: WebSearchOptions = {};
  const filters = isObject(t.filters) ? t.filters : undefined;
  const allowed = filters && Array.isArray(filters.allowed_domains) ? filters.allowed_domains.filter((d): d is string => typeof d === 'string') : [];
  if (allowed.length) options.allowedDomains = allowed;
  return options;
}

function decodeTools(value: unknown, dropped: string[], search: { options?: WebSearchOptions; images?: boolean }): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  const out: ToolDefinition[] = [];
  array(value, 'tools').forEach((tool, i) => {
    const t = object(tool, `tools[${i}]`);
    if (typeof t.type === 'string' && WEB_SEARCH_TOOLS.has(t.type)) {
      const options = webSearchOptions(t, `tools[${i}]`, dropped);
      if (options) search.options = options;
    } else if (t.type === 'image_generation') {
      // Generated images come back as image_generation_call items (base64 `result`).
      search.images = true;
    } else if (t.type === 'function') {
      const def: ToolDefinition = { name: nonEmptyString(t.name, `tools[${i}].name`) };
      const description = optionalString(t.description, `tools[${i}].description`);
      if (description) def.description = description;
      def.parameters = t.parameters === undefined || t.parameters === null ? { type: 'object', properties: {} } : object(t.parameters, `tools[${i}].parameters`);
      out.push(def);
    } else if (t.type === 'custom') {
      const def: ToolDefinition = { name: nonEmptyString(t.name, `tools[${i}].name`), kind: 'custom' };
      const description = optionalString(t.description, `tools[${i}].description`);
      if (description) def.description = description;
      if (isObject(t.format) && t.format.type === 'grammar' && typeof t.format.definition === 'string') {
        def.grammar = { syntax: String(t.format.syntax ?? 'lark'), definition: t.format.definition };
      }
      out.push(def);
    } else {
      dropped.push(`tools[${i}]: hosted tool ${String(t.type)}`);
    }
  });
  return out;
}

function decodeToolChoice(value: unknown): ToolChoice {
  if (value === undefined || value === null || value === 'auto') return { type: 'auto' };
  if (value === 'none') return { type: 'none' };
  if (value === 'required') return { type: 'required' };
  if (isObject(value)) {
    if ((value.type === 'function' || value.type === 'custom') && typeof value.name === 'string') return { type: 'tool', name: value.name };
    if (value.type === 'allowed_tools') return value.mode === 'required' ? { type: 'required' } : { type: 'auto' };
    // Hosted tool choices: web_search marks the search forced (decodeResponsesRequest); others let the model decide.
    if (typeof value.type === 'string') return { type: 'auto' };
  }
  throw invalid('tool_choice', 'expected "auto", "none", "required" or {"type":"function","name":…}');
}

function decodeFormat(value: unknown): ResponseFormat | undefined {
  if (value === null) return undefined;
  const f = object(value, 'text.format');
  switch (f.type) {
    case 'text':
      return { type: 'text' };
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const format: ResponseFormat = { type: 'json_schema', schema: object(f.schema, 'text.format.schema') };
      const name = optionalString(f.name, 'text.format.name');
      if (name) format.name = name;
      const strict = optionalBoolean(f.strict, 'text.format.strict');
      if (strict !== undefined) format.strict = strict;
      return format;
    }
    default:
      throw invalid('text.format.type', 'expected "text", "json_object" or "json_schema"');
  }
}

// OpenAI Chat Completions request -> ChatRequest. Leading system/developer messages become the
// system prompt; later ones stay in place as mid-conversation system messages. Unknown fields
// are ignored; `n > 1` is refused (one answer per request is all any upstream here gives).
// `web_search_options` (OpenAI's search models) or a `web_search` tool become `webSearch`.

import type { ChatRequest, ContentPart, Message, ReasoningOptions, ResponseFormat, ToolChoice, ToolDefinition, WebSearchOptions } from '../../core/types.js';
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
  optionalStringList,
  parseDataUrl,
  string,
  type Json,
} from '../validate.js';

export function decodeChatRequest(body: unknown): ChatRequest {
  const b = object(body, 'body');
  const model = nonEmptyString(b.model, 'model');
  const n = optionalInteger(b.n, 'n', 1);
  if (n !== undefined && n > 1) throw invalid('n', 'only n=1 is supported by this gateway');

  const request: ChatRequest = {
    model,
    system: [],
    messages: [],
    tools: [],
    toolChoice: decodeToolChoice(b.tool_choice),
    stream: optionalBoolean(b.stream, 'stream') ?? false,
  };
  const search: { options?: WebSearchOptions } = {};
  request.tools = decodeTools(b.tools, search);
  if (b.web_search_options !== undefined && b.web_search_options !== null) {
    object(b.web_search_options, 'web_search_options');
    search.options ??= {};
  }
  if (search.options) request.webSearch = search.options;
  // Image output as content parts, as OpenAI's audio/image outputs are asked for.
  if (Array.isArray(b.modalities) && b.modalities.includes('image')) request.imageOutput = true;

  let leading = true;
  array(b.messages, 'messages').forEach((value, i) => {
    const path = `messages[${i}]`;
    const m = object(value, path);
    const role = m.role;
    if (role === 'system' || role === 'developer') {
      const text = textOf(m.content, `${path}.content`);
      if (leading) request.system.push({ type: 'text', text });
      else request.messages.push({ role: 'system', content: [{ type: 'text', text }] });
      return;
    }
    leading = false;
    request.messages.push(decodeMessage(m, path, role));
  });
  if (request.messages.length === 0 && request.system.length === 0) throw invalid('messages', 'must not be empty');

  const parallel = optionalBoolean(b.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  const maxTokens = optionalInteger(b.max_completion_tokens, 'max_completion_tokens', 1) ?? optionalInteger(b.max_tokens, 'max_tokens', 1);
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  const temperature = optionalNumber(b.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(b.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const stop = optionalStringList(b.stop, 'stop');
  if (stop?.length) request.stop = stop;
  const format = decodeResponseFormat(b.response_format);
  if (format) request.responseFormat = format;
  const effort = optionalString(b.reasoning_effort, 'reasoning_effort');
  if (effort) request.reasoning = decodeEffort(effort, 'reasoning_effort');
  const key = optionalString(b.prompt_cache_key, 'prompt_cache_key') ?? optionalString(b.user, 'user');
  if (key) request.conversationKey = key;
  return request;
}

const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

export function decodeEffort(effort: string, path: string): ReasoningOptions {
  if (!EFFORTS.includes(effort)) throw invalid(path, `unknown effort "${effort}"`);
  return effort === 'none' ? { enabled: false } : { effort: effort as NonNullable<ReasoningOptions['effort']> };
}

function decodeMessage(m: Json, path: string, role: unknown): Message {
  switch (role) {
    case 'user':
      return { role: 'user', content: decodeUserContent(m.content, `${path}.content`) };
    case 'assistant': {
      const content: ContentPart[] = [];
      const reasoning = m.reasoning_content ?? m.reasoning;
      if (typeof reasoning === 'string' && reasoning) content.push({ type: 'thinking', text: reasoning });
      if (m.content !== undefined && m.content !== null) {
        const text = textOf(m.content, `${path}.content`);
        if (text) content.push({ type: 'text', text });
      }
      if (m.tool_calls !== undefined && m.tool_calls !== null) {
        array(m.tool_calls, `${path}.tool_calls`).forEach((call, j) => {
          const c = object(call, `${path}.tool_calls[${j}]`);
          const at = `${path}.tool_calls[${j}]`;
          if (c.type === 'custom') {
            const custom = object(c.custom, `${at}.custom`);
            content.push({ type: 'tool_call', kind: 'custom', id: nonEmptyString(c.id, `${at}.id`), name: nonEmptyString(custom.name, `${at}.custom.name`), arguments: string(custom.input ?? '', `${at}.custom.input`) });
            return;
          }
          const fn = object(c.function, `${at}.function`);
          const args = fn.arguments;
          content.push({
            type: 'tool_call',
            id: nonEmptyString(c.id, `${at}.id`),
            name: nonEmptyString(fn.name, `${at}.function.name`),
            // Some clients echo arguments as an object; keep them as JSON text either way.
            arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
          });
        });
      }
      return { role: 'assistant', content };
    }
    case 'tool': {
      const callId = nonEmptyString(m.tool_call_id, `${path}.tool_call_id`);
      return { role: 'tool', content: [{ type: 'tool_result', callId, content: [{ type: 'text', text: textOf(m.content, `${path}.content`) }] }] };
    }
    case 'function':
      throw invalid(`${path}.role`, '"function" messages are deprecated: use "tool" messages with tool_call_id');
    default:
      throw invalid(`${path}.role`, 'expected "system", "developer", "user", "assistant" or "tool"');
  }
}

/** Text of a string or a text-part array (system, developer, assistant, tool contents). */
function textOf(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return array(value, path)
    .map((part, i) => {
      const p = object(part, `${path}[${i}]`);
      if (p.type === 'text' || p.type === 'refusal') return string(p.text ?? p.refusal, `${path}[${i}].text`);
      throw invalid(`${path}[${i}].type`, 'expected "text"');
    })
    .join('');
}

function decodeUserContent(value: unknown, path: string): ContentPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  return array(value, path).map((part, i): ContentPart => {
    const at = `${path}[${i}]`;
    const p = object(part, at);
    switch (p.type) {
      case 'text':
        return { type: 'text', text: string(p.text, `${at}.text`) };
      case 'image_url': {
        const image = object(p.image_url, `${at}.image_url`);
        return imageFromUrl(nonEmptyString(image.url, `${at}.image_url.url`), `${at}.image_url.url`);
      }
      case 'file': {
        const file = object(p.file, `${at}.file`);
        const data = optionalString(file.file_data, `${at}.file.file_data`);
        if (!data) throw invalid(`${at}.file.file_data`, 'required (file_id uploads are not supported)');
        const inline = parseDataUrl(data);
        const filename = optionalString(file.filename, `${at}.file.filename`);
        return { type: 'file', ...(inline ? { mimeType: inline.mimeType, data: inline.data } : { data }), ...(filename ? { filename } : {}) };
      }
      default:
        throw invalid(`${at}.type`, `unsupported content part "${String(p.type)}" (use text, image_url or file)`);
    }
  });
}

const WEB_SEARCH_TOOLS = new Set(['web_search', 'web_search_preview']);

function decodeTools(value: unknown, search: { options?: WebSearchOptions }): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  return array(value, 'tools').flatMap((tool, i): ToolDefinition[] => {
    const t = object(tool, `tools[${i}]`);
    if (typeof t.type === 'string' && WEB_SEARCH_TOOLS.has(t.type)) {
      search.options = {};
      return [];
    }
    if (t.type === 'custom') {
      const custom = object(t.custom, `tools[${i}].custom`);
      const def: ToolDefinition = { name: nonEmptyString(custom.name, `tools[${i}].custom.name`), kind: 'custom' };
      const description = optionalString(custom.description, `tools[${i}].custom.description`);
      if (description) def.description = description;
      return [def];
    }
    if (t.type !== 'function') throw invalid(`tools[${i}].type`, 'expected "function", "custom" or "web_search"');
    const fn = object(t.function, `tools[${i}].function`);
    const def: ToolDefinition = { name: nonEmptyString(fn.name, `tools[${i}].function.name`) };
    const description = optionalString(fn.description, `tools[${i}].function.description`);
    if (description) def.description = description;
    def.parameters = fn.parameters === undefined || fn.parameters === null ? { type: 'object', properties: {} } : object(fn.parameters, `tools[${i}].function.parameters`);
    return [def];
  });
}

function decodeToolChoice(value: unknown): ToolChoice {
  if (value === undefined || value === null || value === 'auto') return { type: 'auto' };
  if (value === 'none') return { type: 'none' };
  if (value === 'required') return { type: 'required' };
  if (isObject(value)) {
    if (value.type === 'function') return { type: 'tool', name: nonEmptyString(object(value.function, 'tool_choice.function').name, 'tool_choice.function.name') };
    if (value.type === 'custom') return { type: 'tool', name: nonEmptyString(object(value.custom, 'tool_choice.custom').name, 'tool_choice.custom.name') };
  }
  throw invalid('tool_choice', 'expected "auto", "none", "required" or {"type":"function","function":{"name":…}}');
}

function decodeResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  const f = object(value, 'response_format');
  switch (f.type) {
    case 'text':
      return { type: 'text' };
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const js = object(f.json_schema, 'response_format.json_schema');
      const format: ResponseFormat = { type: 'json_schema', schema: js.schema === undefined ? {} : object(js.schema, 'response_format.json_schema.schema') };
      const name = optionalString(js.name, 'response_format.json_schema.name');
      if (name) format.name = name;
      const strict = optionalBoolean(js.strict, 'response_format.json_schema.strict');
      if (strict !== undefined) format.strict = strict;
      return format;
    }
    default:
      throw invalid('response_format.type', 'expected "text", "json_object" or "json_schema"');
  }
}

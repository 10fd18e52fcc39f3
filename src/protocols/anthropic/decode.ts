// Anthropic Messages request -> ChatRequest. Accepts everything Claude Code 2.1 and the SDKs send
// (docs: shared/docs/clients.md section 6): system blocks with cache_control, mid-conversation
// system messages, non-alternating roles, echoed thinking blocks, tool results with string or
// block content, images, adaptive / budget thinking, output_config. The `web_search_*` server tool
// becomes `webSearch` (served by upstreams that search; never a function tool). Other server tools
// and unknown block types are dropped (they cannot be served), never a failure.

import type { IncomingHttpHeaders } from 'node:http';
import type {
  ChatRequest,
  ContentPart,
  ImagePart,
  Message,
  ReasoningOptions,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
  WebSearchOptions,
} from '../../core/types.js';
import {
  array,
  invalid,
  isObject,
  nonEmptyString,
  object,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalString,
  optionalStringList,
  string,
  type Json,
} from '../validate.js';

export interface DecodeNotes {
  /** Things we dropped on purpose, for a DEBUG log line. */
  dropped: string[];
}

export function decodeAnthropicRequest(body: unknown, headers: IncomingHttpHeaders = {}, notes: DecodeNotes = { dropped: [] }): ChatRequest {
  const b = object(body, 'body');
  const model = nonEmptyString(b.model, 'model');
  const maxTokens = optionalInteger(b.max_tokens, 'max_tokens', 1);
  if (maxTokens === undefined) throw invalid('max_tokens', 'required');

  const request: ChatRequest = {
    model,
    system: decodeSystem(b.system),
    messages: array(b.messages, 'messages').map((m, i) => decodeMessage(m, `messages[${i}]`, notes)).flat(),
    tools: [],
    toolChoice: { type: 'auto' },
    maxTokens,
    stream: optionalBoolean(b.stream, 'stream') ?? false,
  };
  const search: { name?: string; options?: WebSearchOptions } = {};
  request.tools = decodeTools(b.tools, notes, search);

  const choice = decodeToolChoice(b.tool_choice);
  if (choice) {
    request.toolChoice = choice.choice;
    if (choice.disableParallel) request.parallelToolCalls = false;
  }
  if (search.options) {
    // Forced: the choice names the search tool, or demands a tool when search is the only one.
    const c = request.toolChoice;
    if ((c.type === 'tool' && c.name === search.name) || (c.type === 'required' && request.tools.length === 0)) {
      search.options.forced = true;
      request.toolChoice = { type: 'auto' };
    }
    request.webSearch = search.options;
  }
  const temperature = optionalNumber(b.temperature, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(b.top_p, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const stop = optionalStringList(b.stop_sequences, 'stop_sequences');
  if (stop?.length) request.stop = stop;

  const reasoning = decodeReasoning(b.thinking, b.output_config);
  if (reasoning) request.reasoning = reasoning;
  const format = decodeOutputFormat(b.output_config);
  if (format) request.responseFormat = format;

  const key = conversationKey(b.metadata, headers);
  if (key) request.conversationKey = key;
  return request;
}

function decodeSystem(value: unknown): TextPart[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value ? [{ type: 'text', text: value }] : [];
  return array(value, 'system').map((block, i) => {
    const b = object(block, `system[${i}]`);
    if (b.type !== 'text') throw invalid(`system[${i}].type`, 'expected "text"');
    return { type: 'text' as const, text: string(b.text, `system[${i}].text`) };
  });
}

/**
 * One Anthropic message may become several canonical ones: tool results move to a `tool`
 * message placed where they stood, so the order of results and text is kept.
 */
function decodeMessage(value: unknown, path: string, notes: DecodeNotes): Message[] {
  const m = object(value, path);
  const role = m.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system') {
    throw invalid(`${path}.role`, 'expected "user", "assistant" or "system"');
  }
  const blocks = decodeContent(m.content, `${path}.content`, role, notes);
  if (role !== 'user') return [{ role, content: blocks }];

  const out: Message[] = [];
  for (const part of blocks) {
    const kind = part.type === 'tool_result' ? 'tool' : 'user';
    const last = out[out.length - 1];
    if (last && last.role === kind) last.content.push(part);
    else out.push({ role: kind, content: [part] });
  }
  return out.length > 0 ? out : [{ role: 'user', content: [] }];
}

function decodeContent(value: unknown, path: string, role: string, notes: DecodeNotes): ContentPart[] {
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  const out: ContentPart[] = [];
  array(value, path).forEach((block, i) => {
    const part = decodeBlock(block, `${path}[${i}]`, role, notes);
    if (part) out.push(part);
  });
  return out;
}

function decodeBlock(value: unknown, path: string, role: string, notes: DecodeNotes): ContentPart | undefined {
  const b = object(value, path);
  switch (b.type) {
    case 'text':
      return { type: 'text', text: string(b.text, `${path}.text`) };
    case 'image':
      return decodeImage(b.source, `${path}.source`);
    case 'document':
      return decodeDocument(b, path);
    case 'tool_use':
    case 'server_tool_use':
      if (b.type === 'server_tool_use' && b.name === 'web_search') {
        // A search we answered earlier: its cited text blocks carry the answer; the call is not replayed.
        notes.dropped.push(`${path}: server_tool_use web_search`);
        return undefined;
      }
      if (role !== 'assistant') throw invalid(`${path}.type`, 'tool_use blocks belong to assistant messages');
      return {
        type: 'tool_call',
        id: nonEmptyString(b.id, `${path}.id`),
        name: nonEmptyString(b.name, `${path}.name`),
        arguments: JSON.stringify(b.input ?? {}),
      };
    case 'tool_result':
      return decodeToolResult(b, path, notes);
    case 'thinking':
      return { type: 'thinking', text: string(b.thinking ?? '', `${path}.thinking`), ...(typeof b.signature === 'string' ? { signature: b.signature } : {}) };
    case 'redacted_thinking':
      return { type: 'thinking', text: '', redacted: true, ...(typeof b.data === 'string' ? { signature: b.data } : {}) };
    default:
      if (typeof b.type !== 'string') throw invalid(`${path}.type`, 'required');
      notes.dropped.push(`${path}: ${b.type} block`);
      return undefined;
  }
}

function decodeImage(value: unknown, path: string): ImagePart {
  const source = object(value, path);
  if (source.type === 'base64') {
    return { type: 'image', mimeType: string(source.media_type, `${path}.media_type`), data: string(source.data, `${path}.data`) };
  }
  if (source.type === 'url') return { type: 'image', url: string(source.url, `${path}.url`) };
  throw invalid(`${path}.type`, 'expected "base64" or "url"');
}

function decodeDocument(b: Json, path: string): ContentPart {
  const source = object(b.source, `${path}.source`);
  const filename = optionalString(b.title, `${path}.title`);
  const named = filename ? { filename } : {};
  switch (source.type) {
    case 'base64':
      return { type: 'file', mimeType: string(source.media_type, `${path}.source.media_type`), data: string(source.data, `${path}.source.data`), ...named };
    case 'url':
      return { type: 'file', url: string(source.url, `${path}.source.url`), ...named };
    case 'text':
      return { type: 'file', mimeType: 'text/plain', data: Buffer.from(string(source.data, `${path}.source.data`)).toString('base64'), ...named };
    default:
      throw invalid(`${path}.source.type`, 'expected "base64", "url" or "text"');
  }
}

function decodeToolResult(b: Json, path: string, notes: DecodeNotes): ToolResultPart {
  const content: ToolResultPart['content'] = [];
  if (typeof b.content === 'string') content.push({ type: 'text', text: b.content });
  else if (b.content !== undefined && b.content !== null) {
    array(b.content, `${path}.content`).forEach((item, i) => {
      const part = decodeBlock(item, `${path}.content[${i}]`, 'user', notes);
      if (part?.type === 'text' || part?.type === 'image') content.push(part);
      else if (part) notes.dropped.push(`${path}.content[${i}]: ${part.type} in tool_result`);
    });
  }
  const result: ToolResultPart = { type: 'tool_result', callId: nonEmptyString(b.tool_use_id, `${path}.tool_use_id`), content };
  if (optionalBoolean(b.is_error, `${path}.is_error`)) result.isError = true;
  return result;
}

function decodeTools(value: unknown, notes: DecodeNotes, search: { name?: string; options?: WebSearchOptions }): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  const out: ToolDefinition[] = [];
  array(value, 'tools').forEach((tool, i) => {
    const t = object(tool, `tools[${i}]`);
    if (typeof t.type === 'string' && t.type.startsWith('web_search_')) {
      const options: WebSearchOptions = {};
      const maxUses = optionalInteger(t.max_uses, `tools[${i}].max_uses`, 1);
      if (maxUses !== undefined) options.maxUses = maxUses;
      const allowed = optionalStringList(t.allowed_domains, `tools[${i}].allowed_domains`);
      if (allowed?.length) options.allowedDomains = allowed;
      const blocked = optionalStringList(t.blocked_domains, `tools[${i}].blocked_domains`);
      if (blocked?.length) options.blockedDomains = blocked;
      search.name = optionalString(t.name, `tools[${i}].name`) ?? 'web_search';
      search.options = options;
      return;
    }
    // Client tools have no type (or "custom"); typed ones are Anthropic server tools we cannot run.
    if (t.type !== undefined && t.type !== null && t.type !== 'custom') {
      notes.dropped.push(`tools[${i}]: server tool ${String(t.type)}`);
      return;
    }
    const def: ToolDefinition = { name: nonEmptyString(t.name, `tools[${i}].name`), parameters: object(t.input_schema, `tools[${i}].input_schema`) };
    const description = optionalString(t.description, `tools[${i}].description`);
    if (description) def.description = description;
    out.push(def);
  });
  return out;
}

function decodeToolChoice(value: unknown): { choice: ToolChoice; disableParallel: boolean } | undefined {
  if (value === undefined || value === null) return undefined;
  const c = object(value, 'tool_choice');
  const disableParallel = optionalBoolean(c.disable_parallel_tool_use, 'tool_choice.disable_parallel_tool_use') ?? false;
  switch (c.type) {
    case 'auto':
      return { choice: { type: 'auto' }, disableParallel };
    case 'any':
      return { choice: { type: 'required' }, disableParallel };
    case 'none':
      return { choice: { type: 'none' }, disableParallel };
    case 'tool':
      return { choice: { type: 'tool', name: nonEmptyString(c.name, 'tool_choice.name') }, disableParallel };
    default:
      throw invalid('tool_choice.type', 'expected "auto", "any", "tool" or "none"');
  }
}

const EFFORTS = new Set(['minimal', 'low', 'medium', 'high', 'xhigh', 'max']);

function decodeReasoning(thinking: unknown, outputConfig: unknown): ReasoningOptions | undefined {
  let reasoning: ReasoningOptions | undefined;
  if (thinking !== undefined && thinking !== null) {
    const t = object(thinking, 'thinking');
    switch (t.type) {
      case 'enabled': {
        const budget = optionalInteger(t.budget_tokens, 'thinking.budget_tokens', 0);
        reasoning = { enabled: true, ...(budget !== undefined ? { budgetTokens: budget } : {}) };
        break;
      }
      case 'adaptive':
        reasoning = { enabled: true };
        break;
      case 'disabled':
        reasoning = { enabled: false };
        break;
      default:
        throw invalid('thinking.type', 'expected "enabled", "adaptive" or "disabled"');
    }
  }
  if (isObject(outputConfig) && outputConfig.effort !== undefined) {
    const effort = string(outputConfig.effort, 'output_config.effort');
    if (!EFFORTS.has(effort)) throw invalid('output_config.effort', `unknown effort "${effort}"`);
    reasoning = { ...reasoning, effort: effort === 'max' ? 'xhigh' : (effort as ReasoningOptions['effort']) };
  }
  return reasoning;
}

function decodeOutputFormat(outputConfig: unknown): ResponseFormat | undefined {
  if (!isObject(outputConfig) || outputConfig.format === undefined || outputConfig.format === null) return undefined;
  const f = object(outputConfig.format, 'output_config.format');
  if (f.type !== 'json_schema') throw invalid('output_config.format.type', 'expected "json_schema"');
  return { type: 'json_schema', schema: object(f.schema, 'output_config.format.schema') };
}

/**
 * Claude Code sends `metadata.user_id` as a JSON string holding `session_id`, and the same id in
 * the `x-claude-code-session-id` header. Either keeps unrelated conversations apart.
 */
function conversationKey(metadata: unknown, headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-claude-code-session-id'];
  if (typeof header === 'string' && header) return `claude-code:${header}`;
  if (!isObject(metadata) || typeof metadata.user_id !== 'string' || !metadata.user_id) return undefined;
  const userId = metadata.user_id;
  if (userId.startsWith('{')) {
    try {
      const parsed = JSON.parse(userId) as Json;
      if (typeof parsed.session_id === 'string' && parsed.session_id) return `claude-code:${parsed.session_id}`;
    } catch {
      // not JSON: use it as it is
    }
  }
  return `user:${userId}`;
}

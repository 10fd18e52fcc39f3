// Upstream Chat Completions stream -> canonical events. An incremental SSE reader (bytes may be
// split anywhere, including inside a UTF-8 character) and a chunk mapper that repairs what real
// servers get wrong (gpt4free above all): tool calls without `index`, `arguments` sent as an
// object, no final `finish_reason`, `finish_reason: "stop"` after tool calls, errors as data.

import { StringDecoder } from 'node:string_decoder';
import { GatewayError } from '../../core/gateway-error.js';
import { randomId } from '../../core/ids.js';
import type { ChatEvent, FinishReason, Usage } from '../../core/types.js';
import { upstreamErrorFromBody } from './errors.js';

/**
 * Splits an SSE byte stream into the `data:` payload of each event, push-style: feed it what the
 * socket gave, get every payload completed by it. Stops at `[DONE]` (`done`); bytes may be split
 * anywhere, inside a UTF-8 character too.
 */
export class SseSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private data: string[] = [];
  done = false;

  push(chunk: Buffer | string, out: string[]): void {
    if (this.done) return;
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let from = 0;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n', from)) >= 0) {
      let line = this.buffer.slice(from, newline);
      from = newline + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length > 0) {
          const payload = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
          this.data = [];
          if (payload === '[DONE]') {
            this.done = true;
            break;
          }
          out.push(payload);
        }
      } else if (line.startsWith('data:')) {
        this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // `event:`, `id:`, `retry:` and `: comments` carry nothing we need.
    }
    this.buffer = from === 0 ? this.buffer : this.buffer.slice(from);
  }

  /** The body ended: a last event without its blank line still counts. */
  end(out: string[]): void {
    if (this.done) return;
    this.done = true;
    const buffer = this.buffer + this.decoder.end();
    if (buffer.startsWith('data:')) this.data.push(buffer.slice(buffer.charCodeAt(5) === 32 ? 6 : 5).trimEnd());
    if (this.data.length > 0 && this.data.join('\n') !== '[DONE]') out.push(this.data.join('\n'));
  }
}

/** Yields the `data:` payload of each SSE event; stops at `[DONE]`. */
export async function* readSse(body: AsyncIterable<Buffer | string>): AsyncIterable<string> {
  const splitter = new SseSplitter();
  const out: string[] = [];
  for await (const chunk of body) {
    // After [DONE] the body is read to its end rather than abandoned: leaving a for-await early
    // destroys the stream with an AbortError (a stack trace per request) and drops the socket.
    splitter.push(chunk, out);
    if (out.length > 0) yield* out.splice(0);
  }
  splitter.end(out);
  yield* out;
}

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

interface OpenTool {
  index: number;
  id: string;
  started: boolean;
  name: string;
  ended: boolean;
  /** Arguments that arrived before the name: held until the call can start. */
  pending: string;
}

type Json = Record<string, unknown>;

export function usageFrom(value: unknown): Usage | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const u = value as Json;
  if (typeof u.prompt_tokens !== 'number' && typeof u.completion_tokens !== 'number') return undefined;
  const usage: Usage = { inputTokens: Number(u.prompt_tokens ?? 0), outputTokens: Number(u.completion_tokens ?? 0) };
  const reasoning = (u.completion_tokens_details as Json | undefined)?.reasoning_tokens;
  if (typeof reasoning === 'number') usage.reasoningTokens = reasoning;
  const cached = (u.prompt_tokens_details as Json | undefined)?.cached_tokens;
  if (typeof cached === 'number') usage.cachedInputTokens = cached;
  return usage;
}

/** Maps parsed chunks to events, keeping the state the repairs need. */
export class ChunkMapper {
  private readonly tools: OpenTool[] = [];
  private readonly byId = new Map<string, OpenTool>();
  private readonly byUpstreamIndex = new Map<number, OpenTool>();
  private finish: FinishReason | undefined;
  private usage: Usage | undefined;
  private finished = false;

  /** One parsed chunk -> events. Throws a GatewayError for an error payload. */
  map(chunk: Json): ChatEvent[] {
    if (chunk.error !== undefined && chunk.error !== null) throw upstreamErrorFromBody(chunk, 200);
    const out: ChatEvent[] = [];
    const usage = usageFrom(chunk.usage);
    if (usage) this.usage = usage;
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
    const choice = choices[0];
    if (!choice) return out;
    const delta = (choice.delta ?? choice.message ?? {}) as Json;

    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning) out.push({ type: 'thinking-delta', text: reasoning });
    if (typeof delta.content === 'string' && delta.content) out.push({ type: 'text-delta', text: delta.content });
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as Json[]) this.toolCall(call, out);

    const reason = choice.finish_reason;
    if (typeof reason === 'string' && reason) this.finish = FINISH[reason] ?? 'stop';
    return out;
  }

  /**
   * One SSE payload -> events, into `out`. The common chunk (text only, nothing to repair) is
   * recognised by a scan and its content taken as the JSON literal the upstream sent: no parse, and
   * encoders that speak JSON reuse the literal (`json`) instead of stringifying the text again.
   * Anything else takes the full path: parse, then map with repairs.
   */
  mapPayload(payload: string, out: ChatEvent[]): void {
    const text = plainTextDelta(payload);
    if (text === undefined) out.push(...this.map(parseChunk(payload)));
    else if (text !== null) out.push(text);
  }

  /** End of stream: close tool calls, then usage and finish, whatever the upstream omitted. */
  end(): ChatEvent[] {
    if (this.finished) return [];
    this.finished = true;
    const out: ChatEvent[] = [];
    for (const tool of this.tools) {
      if (!tool.started) this.start(tool, out);
      if (!tool.ended) out.push({ type: 'tool-call-end', index: tool.index });
    }
    if (this.usage) out.push({ type: 'usage', usage: this.usage });
    // A missing finish, or "stop" after tool calls, is settled by the pipeline (core/event-contract.ts).
    if (this.finish) out.push({ type: 'finish', reason: this.finish });
    return out;
  }

  private toolCall(call: Json, out: ChatEvent[]): void {
    const fn = (call.function ?? {}) as Json;
    const id = typeof call.id === 'string' && call.id ? call.id : undefined;
    let tool: OpenTool | undefined;
    if (typeof call.index === 'number') tool = this.byUpstreamIndex.get(call.index);
    if (!tool && id) tool = this.byId.get(id);
    // No index and no id: a continuation of the call in progress.
    if (!tool && typeof call.index !== 'number' && !id) tool = this.tools[this.tools.length - 1];
    if (!tool) {
      tool = { index: this.tools.length, id: id ?? randomId('call_'), started: false, name: '', ended: false, pending: '' };
      this.tools.push(tool);
      if (typeof call.index === 'number') this.byUpstreamIndex.set(call.index, tool);
      this.byId.set(tool.id, tool);
    }
    if (typeof fn.name === 'string' && fn.name && !tool.name) tool.name = fn.name;
    if (!tool.started && tool.name) this.start(tool, out);

    const args = fn.arguments;
    if (args === undefined || args === null) return;
    // Some servers send the arguments as an object instead of a JSON string.
    const text = typeof args === 'string' ? args : JSON.stringify(args);
    if (!text) return;
    if (tool.started) out.push({ type: 'tool-call-delta', index: tool.index, argumentsDelta: text });
    else tool.pending += text;
  }

  private start(tool: OpenTool, out: ChatEvent[]): void {
    tool.started = true;
    out.push({ type: 'tool-call-start', index: tool.index, id: tool.id, name: tool.name || 'unknown_tool' });
    if (tool.pending) out.push({ type: 'tool-call-delta', index: tool.index, argumentsDelta: tool.pending });
    tool.pending = '';
  }
}

const CONTENT_DELTA = '"choices":[{"index":0,"delta":{"content":"';
/** What may follow the content in a chunk that needs nothing: null finish/logprobs, plain top-level strings or nulls. */
const PLAIN_TAIL = /^\}(?:,"(?:logprobs|finish_reason)":null)*\}\](?:,"[a-z_]+":(?:null|"[^"\\]*"))*\}$/;

/**
 * The text delta of a chunk that needs no repair, or undefined when the chunk needs the full path
 * (tool calls, finish, usage, errors, reasoning, a role, escapes JSON.stringify would write
 * differently). null: a plain chunk with empty content (no event).
 */
export function plainTextDelta(payload: string): Extract<ChatEvent, { type: 'text-delta' }> | null | undefined {
  const at = payload.indexOf(CONTENT_DELTA);
  if (at < 0 || payload.charCodeAt(0) !== 123) return undefined;
  const head = payload.indexOf('"usage"');
  if ((head >= 0 && head < at) || payload.indexOf('"error"') >= 0) return undefined;
  const open = at + CONTENT_DELTA.length - 1;
  let escaped = false;
  let i = open + 1;
  for (;;) {
    const c = payload.charCodeAt(i);
    if (c === 34) break; // the closing quote
    if (c === 92) {
      // \u and \/ are valid JSON that JSON.stringify writes differently: leave those to the full path.
      const next = payload.charCodeAt(i + 1);
      if (next === 117 || next === 47) return undefined;
      escaped = true;
      i += 2;
      continue;
    }
    if (c < 32 || Number.isNaN(c)) return undefined;
    i++;
  }
  if (!PLAIN_TAIL.test(payload.slice(i + 1))) return undefined;
  const json = payload.slice(open, i + 1);
  if (json.length === 2) return null;
  return { type: 'text-delta', text: escaped ? (JSON.parse(json) as string) : json.slice(1, -1), json };
}

/** A whole chat.completion (servers that ignore `stream: true`) as events. */
export function completionEvents(body: Json): ChatEvent[] {
  const mapper = new ChunkMapper();
  const events = mapper.map(body);
  return [...events, ...mapper.end()];
}

export function parseChunk(payload: string): Json {
  try {
    const value = JSON.parse(payload) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Json;
  } catch {
    // fall through
  }
  throw new GatewayError('upstream_unavailable', `Upstream sent a malformed stream chunk: ${payload.slice(0, 120)}`, { code: 'upstream_malformed' });
}

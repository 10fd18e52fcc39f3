// Canonical events -> Anthropic Messages SSE, and ChatResult -> one message object.
// Sequence: message_start -> per block content_block_start / deltas / content_block_stop ->
// message_delta -> message_stop. Tool input goes ONLY as input_json_delta fragments with
// `input: {}` in content_block_start (Claude Code ignores input given there).

import type { ChatResult } from '../../core/collect.js';
import type { GatewayError } from '../../core/gateway-error.js';
import { ids, styledCallId } from '../../core/ids.js';
import type { ChatEvent, ChatRequest, Citation, FinishReason, Usage, WebSource } from '../../core/types.js';
import { imageMarkdown } from '../../core/types.js';
import { anthropicErrorBody } from './errors.js';
import { sseEvent, type ProtocolAdapter, type ResponseMeta, type StreamEncoder } from '../encoder.js';

const STOP_REASON: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  stop_sequence: 'stop_sequence',
  content_filter: 'refusal',
};

const PING = sseEvent('ping', { type: 'ping' });

/** Opaque to clients; they send it back in later turns and we drop it there (decode.ts). */
const opaque = (url: string) => Buffer.from(url, 'utf8').toString('base64url');

/** A search's results as Anthropic's `web_search_tool_result` block. */
function searchResultBlock(id: string, sources: WebSource[]): Record<string, unknown> {
  return {
    type: 'web_search_tool_result',
    tool_use_id: styledSearchId(id),
    content: sources.map((s) => ({ type: 'web_search_result', url: s.url, title: s.title, encrypted_content: opaque(s.url), page_age: null })),
  };
}

function citationOf(c: Citation): Record<string, unknown> {
  return { type: 'web_search_result_location', cited_text: c.citedText, url: c.url, title: c.title, encrypted_index: opaque(c.url) };
}

function styledSearchId(id: string): string {
  return id.startsWith('srvtoolu_') ? id : `srvtoolu_${id.replace(/^(ws_|srvtoolu_)/, '')}`;
}

type OpenBlock = 'text' | 'thinking' | 'tool_use' | null;

export class AnthropicStreamEncoder implements StreamEncoder {
  private index = -1;
  private open: OpenBlock = null;
  private readonly toolBlocks = new Map<number, number>();
  private openTool = -1;
  private usage: Usage | undefined;
  private finish: FinishReason | undefined;
  private stopSequence: string | null = null;
  private searches = 0;

  constructor(private readonly meta: ResponseMeta) {}

  start(): string {
    return sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: this.meta.id,
        type: 'message',
        role: 'assistant',
        model: this.meta.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.meta.inputTokens ?? 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    });
  }

  event(event: ChatEvent): string {
    switch (event.type) {
      case 'text-delta':
        if (!event.text) return '';
        if (event.citations) {
          // A cited span is a text block of its own: citations first, then its text.
          let out = this.close() + this.openBlock('text', { type: 'text', text: '', citations: [] });
          for (const citation of event.citations) out += this.delta({ type: 'citations_delta', citation: citationOf(citation) });
          return out + this.delta({ type: 'text_delta', text: event.text }) + this.close();
        }
        if (event.json === undefined) return this.ensure('text', { type: 'text', text: '' }) + this.delta({ type: 'text_delta', text: event.text });
        // The upstream's literal is what JSON.stringify would write: the same bytes, one stringify fewer.
        return `${this.ensure('text', { type: 'text', text: '' })}event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.index},"delta":{"type":"text_delta","text":${event.json}}}\n\n`;
      case 'web-search': {
        this.searches++;
        const id = styledSearchId(event.id);
        let out = this.close() + this.openBlock('tool_use', { type: 'server_tool_use', id, name: 'web_search', input: {} });
        out += this.delta({ type: 'input_json_delta', partial_json: JSON.stringify({ query: event.query }) }) + this.close();
        return out + this.openBlock('tool_use', searchResultBlock(id, event.sources)) + this.close();
      }
      case 'image':
        return this.ensure('text', { type: 'text', text: '' }) + this.delta({ type: 'text_delta', text: imageMarkdown(event) });
      case 'thinking-delta':
        if (!event.text) return '';
        return this.ensure('thinking', { type: 'thinking', thinking: '', signature: '' }) + this.delta({ type: 'thinking_delta', thinking: event.text });
      case 'thinking-signature':
        return this.ensure('thinking', { type: 'thinking', thinking: '', signature: '' }) + this.delta({ type: 'signature_delta', signature: event.signature });
      case 'tool-call-start': {
        const out = this.close() + this.openBlock('tool_use', { type: 'tool_use', id: styledCallId(event.id, 'toolu_'), name: event.name, input: {} });
        this.toolBlocks.set(event.index, this.index);
        this.openTool = event.index;
        return out;
      }
      case 'tool-call-delta': {
        const block = this.toolBlocks.get(event.index);
        if (block === undefined || !event.argumentsDelta) return '';
        return sseEvent('content_block_delta', { type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: event.argumentsDelta } });
      }
      case 'tool-call-end':
        return this.open === 'tool_use' && this.openTool === event.index ? this.close() : '';
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'finish':
        this.finish = event.reason;
        if (event.stopSequence !== undefined) this.stopSequence = event.stopSequence;
        return '';
      case 'error':
        return this.fail(event.error);
    }
  }

  end(): string {
    const reason = this.finish ?? 'stop'; // the pipeline always sends one finish
    const usage: Record<string, unknown> = { output_tokens: this.usage?.outputTokens ?? 0 };
    if (this.usage?.inputTokens) usage.input_tokens = this.usage.inputTokens;
    if (this.searches > 0) usage.server_tool_use = { web_search_requests: this.searches };
    return (
      this.close() +
      sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: STOP_REASON[reason], stop_sequence: this.stopSequence }, usage }) +
      sseEvent('message_stop', { type: 'message_stop' })
    );
  }

  fail(error: GatewayError): string {
    return sseEvent('error', anthropicErrorBody(error));
  }

  ping(): string {
    return PING;
  }

  private ensure(kind: Exclude<OpenBlock, null>, block: Record<string, unknown>): string {
    return this.open === kind ? '' : this.close() + this.openBlock(kind, block);
  }

  private openBlock(kind: Exclude<OpenBlock, null>, block: Record<string, unknown>): string {
    this.index++;
    this.open = kind;
    return sseEvent('content_block_start', { type: 'content_block_start', index: this.index, content_block: block });
  }

  private delta(delta: Record<string, unknown>): string {
    return sseEvent('content_block_delta', { type: 'content_block_delta', index: this.index, delta });
  }

  private close(): string {
    if (this.open === null) return '';
    this.open = null;
    this.openTool = -1;
    return sseEvent('content_block_stop', { type: 'content_block_stop', index: this.index });
  }
}

export function encodeAnthropicMessage(result: ChatResult, meta: ResponseMeta): Record<string, unknown> {
  let searches = 0;
  const content = result.blocks.flatMap((block) => {
    switch (block.type) {
      case 'text':
        return block.citations ? { type: 'text', text: block.text, citations: block.citations.map(citationOf) } : { type: 'text', text: block.text };
      case 'web_search': {
        searches++;
        const id = styledSearchId(block.id);
        return [{ type: 'server_tool_use', id, name: 'web_search', input: { query: block.query } }, searchResultBlock(id, block.sources)];
      }
      case 'thinking':
        return { type: 'thinking', thinking: block.text, signature: block.signature ?? '' };
      case 'tool_call':
        return { type: 'tool_use', id: styledCallId(block.id, 'toolu_'), name: block.name, input: parseToolInput(block.arguments) };
      case 'image':
        // The Messages API allows no image blocks in an assistant answer: a Markdown link.
        return { type: 'text', text: imageMarkdown(block) };
    }
  });
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content,
    stop_reason: STOP_REASON[result.finish],
    stop_sequence: result.stopSequence ?? null,
    usage: {
      input_tokens: result.usage?.inputTokens ?? 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: result.usage?.cachedInputTokens ?? 0,
      output_tokens: result.usage?.outputTokens ?? 0,
      ...(searches > 0 ? { server_tool_use: { web_search_requests: searches } } : {}),
    },
  };
}

/** Tool input must be an object; arguments that are not a JSON object are kept under `input`. */
function parseToolInput(text: string): unknown {
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  return { input: text };
}

export const anthropicAdapter: ProtocolAdapter = {
  protocol: 'anthropic',
  newId: ids.anthropicMessage,
  inputTokensUpfront: true,
  createEncoder: (meta: ResponseMeta, _request: ChatRequest) => new AnthropicStreamEncoder(meta),
  encodeResult: (result, meta) => encodeAnthropicMessage(result, meta),
};

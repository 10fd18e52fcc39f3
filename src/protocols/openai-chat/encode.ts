// Canonical events -> Chat Completions chunks (role chunk, content / reasoning_content / tool_calls
// deltas, finish chunk, optional usage chunk, [DONE]) and ChatResult -> one chat.completion.
// Chunks are assembled around a cached JSON prefix so each delta costs one small stringify.

import type { ChatResult } from '../../core/collect.js';
import type { GatewayError } from '../../core/gateway-error.js';
import { ids, styledCallId } from '../../core/ids.js';
import type { ChatEvent, Citation, FinishReason, Usage } from '../../core/types.js';
import { imageMarkdown } from '../../core/types.js';
import { openAIErrorBody } from './errors.js';
import type { ProtocolAdapter, ResponseMeta, StreamEncoder } from '../encoder.js';

const FINISH: Record<FinishReason, string> = {
  stop: 'stop',
  stop_sequence: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
};

export function openAIUsage(usage: Usage | undefined): Record<string, unknown> {
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage?.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage?.reasoningTokens ?? 0 },
  };
}

/** A cited span as OpenAI's search models annotate the message (`start`/`end`: UTF-16 offsets in `content`). */
function urlCitations(citations: Citation[], start: number, end: number): Array<Record<string, unknown>> {
  return citations.map((c) => ({ type: 'url_citation', url_citation: { start_index: start, end_index: end, url: c.url, title: c.title } }));
}

export class ChatStreamEncoder implements StreamEncoder {
  /** Characters of `content` sent so far (annotation offsets). */
  private offset = 0;
  private readonly prefix: string;
  private readonly toolIndex = new Map<number, number>();
  private readonly custom = new Set<number>();
  private usage: Usage | undefined;
  private finish: FinishReason | undefined;

  constructor(
    private readonly meta: ResponseMeta,
    private readonly includeUsage: boolean,
  ) {
    this.prefix = `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},"choices":[{"index":0,"delta":`;
  }

  start(): string {
    return this.chunk('{"role":"assistant","content":""}');
  }

  event(event: ChatEvent): string {
    switch (event.type) {
      case 'text-delta': {
        if (!event.text) return '';
        const start = this.offset;
        this.offset += event.text.length;
        const out = this.chunk(`{"content":${event.json ?? JSON.stringify(event.text)}}`);
        return event.citations ? out + this.chunk(`{"annotations":${JSON.stringify(urlCitations(event.citations, start, this.offset))}}`) : out;
      }
      case 'web-search':
        return ''; // Chat Completions has no search items: the sources come as annotations
      case 'image': {
        // Asked for as data (`modalities` with "image"): an `images` delta of image_url parts (the
        // shape OpenRouter streams); otherwise a Markdown link in the content.
        if (event.data) return this.chunk(`{"images":[${JSON.stringify(imagePart(event.mimeType ?? 'image/png', event.data))}]}`);
        const text = imageMarkdown(event);
        this.offset += text.length;
        return this.chunk(`{"content":${JSON.stringify(text)}}`);
      }
      case 'thinking-delta':
        return event.text ? this.chunk(`{"reasoning_content":${JSON.stringify(event.text)}}`) : '';
      case 'thinking-signature':
        return '';
      case 'tool-call-start': {
        const index = this.toolIndex.size;
        this.toolIndex.set(event.index, index);
        if (event.kind === 'custom') this.custom.add(event.index);
        const call =
          event.kind === 'custom'
            ? { index, id: styledCallId(event.id, 'call_'), type: 'custom', custom: { name: event.name, input: '' } }
            : { index, id: styledCallId(event.id, 'call_'), type: 'function', function: { name: event.name, arguments: '' } };
        return this.chunk(`{"tool_calls":[${JSON.stringify(call)}]}`);
      }
      case 'tool-call-delta': {
        const index = this.toolIndex.get(event.index);
        if (index === undefined || !event.argumentsDelta) return '';
        const delta = JSON.stringify(event.argumentsDelta);
        return this.custom.has(event.index)
          ? this.chunk(`{"tool_calls":[{"index":${index},"custom":{"input":${delta}}}]}`)
          : this.chunk(`{"tool_calls":[{"index":${index},"function":{"arguments":${delta}}}]}`);
      }
      case 'tool-call-end':
        return '';
      case 'usage':
        this.usage = event.usage;
        return '';
      case 'finish':
        this.finish = event.reason;
        return '';
      case 'error':
        return this.fail(event.error);
    }
  }

  end(): string {
    const reason = this.finish ?? 'stop'; // the pipeline always sends one finish
    let out = this.chunk('{}', JSON.stringify(FINISH[reason]));
    if (this.includeUsage) {
      out += `data: ${JSON.stringify({ id: this.meta.id, object: 'chat.completion.chunk', created: this.meta.created, model: this.meta.model, choices: [], usage: openAIUsage(this.usage) })}\n\n`;
    }
    return `${out}data: [DONE]\n\n`;
  }

  /** OpenAI SDKs raise an APIError for a data chunk carrying `error`. */
  fail(error: GatewayError): string {
    return `data: ${JSON.stringify(openAIErrorBody(error))}\n\n`;
  }

  ping(): string {
    return ': ping\n\n';
  }

  private chunk(delta: string, finishReason = 'null'): string {
    return `${this.prefix}${delta},"logprobs":null,"finish_reason":${finishReason}}]}\n\n`;
  }
}

/** A generated image as a Chat Completions content part (a data: URL). */
function imagePart(mimeType: string, data: string): Record<string, unknown> {
  return { type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } };
}

export function encodeChatCompletion(result: ChatResult, meta: ResponseMeta): Record<string, unknown> {
  let text = '';
  /** With images asked for as data: the content as parts (text, image_url, ...). */
  let parts: Array<Record<string, unknown>> | undefined;
  let reasoning = '';
  const toolCalls: unknown[] = [];
  let annotations: unknown[] | undefined;
  for (const block of result.blocks) {
    if (block.type === 'text') {
      if (block.citations) (annotations ??= []).push(...urlCitations(block.citations, text.length, text.length + block.text.length));
      text += block.text;
      const last = parts?.[parts.length - 1];
      if (last?.type === 'text') last.text += block.text;
      else parts?.push({ type: 'text', text: block.text });
    } else if (block.type === 'image') {
      parts ??= text ? [{ type: 'text', text }] : [];
      parts.push(imagePart(block.mimeType, block.data));
    } else if (block.type === 'web_search') annotations ??= [];
    else if (block.type === 'thinking') reasoning += block.text;
    else if (block.kind === 'custom') toolCalls.push({ id: styledCallId(block.id, 'call_'), type: 'custom', custom: { name: block.name, input: block.arguments } });
    else toolCalls.push({ id: styledCallId(block.id, 'call_'), type: 'function', function: { name: block.name, arguments: block.arguments } });
  }
  const message: Record<string, unknown> = { role: 'assistant', content: parts ?? (text || (toolCalls.length > 0 ? null : '')), refusal: null };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (annotations) message.annotations = annotations;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[result.finish] }],
    usage: openAIUsage(result.usage),
  };
}

export function chatAdapter(includeUsage: boolean): ProtocolAdapter {
  return {
    protocol: 'openai',
    newId: ids.chatCompletion,
    inputTokensUpfront: false,
    createEncoder: (meta) => new ChatStreamEncoder(meta, includeUsage),
    encodeResult: (result, meta) => encodeChatCompletion(result, meta),
  };
}

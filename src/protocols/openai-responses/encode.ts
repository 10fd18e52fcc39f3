// Canonical events -> Responses API SSE, and ChatResult -> one response object. Every event has a
// sequence_number; every output item gets output_item.added ... output_item.done (Codex needs the
// done events and a terminal response.completed / .incomplete / .failed; response.completed.output
// alone is ignored by it).

import type { ChatResult } from '../../core/collect.js';
import type { GatewayError } from '../../core/gateway-error.js';
import { ids, styledCallId } from '../../core/ids.js';
import type { ChatEvent, ChatRequest, Citation, ContentPart, FinishReason, Message, Usage, WebSource } from '../../core/types.js';
import { imageMarkdown } from '../../core/types.js';
import { sseEvent, type ProtocolAdapter, type ResponseMeta, type StreamEncoder } from '../encoder.js';
import { UNSIGNED_REASONING, type ResponsesExtras } from './decode.js';

type Item = Record<string, unknown> & { id: string; type: string };

/** Items as they are being streamed: text and arguments accumulate here. */
type OpenItem =
  | { kind: 'message'; item: Item; index: number; text: string; annotations: Array<Record<string, unknown>> }
  | { kind: 'reasoning'; item: Item; index: number; text: string; signature: string }
  | { kind: 'function_call' | 'custom_tool_call'; item: Item; index: number; text: string; toolIndex: number };

/** A cited span as a `url_citation` annotation (offsets in the output_text, UTF-16 units). */
function urlCitations(citations: Citation[], start: number, end: number): Array<Record<string, unknown>> {
  return citations.map((c) => ({ type: 'url_citation', start_index: start, end_index: end, url: c.url, title: c.title }));
}

/** A search the upstream ran, as a finished `web_search_call` item. */
function webSearchItem(query: string, sources: WebSource[], status = 'completed'): Item {
  return { id: ids.webSearchCall(), type: 'web_search_call', status, action: { type: 'search', query, sources: sources.map((s) => ({ type: 'url', url: s.url })) } };
}

export function responsesUsage(usage: Usage | undefined): Record<string, unknown> {
  const input = usage?.inputTokens ?? 0;
  const output = usage?.outputTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage?.cachedInputTokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.reasoningTokens ?? 0 },
    total_tokens: input + output,
  };
}

function errorCode(error: GatewayError): string {
  if (error.code === 'context_length_exceeded') return error.code;
  if (error.kind === 'rate_limited') return 'rate_limit_exceeded';
  if (error.kind === 'invalid_request') return 'invalid_prompt';
  return 'server_error';
}

/** Called with the finished output, to keep it for previous_response_id. */
export type OnResponseDone = (responseId: string, output: Message) => void;

interface ResponseShape {
  meta: ResponseMeta;
  chat: ChatRequest;
  extras: ResponsesExtras;
}

function responseObject(shape: ResponseShape, status: string, output: Item[], usage: Usage | null, extra: Record<string, unknown> = {}) {
  const { meta, chat, extras } = shape;
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.created,
    status,
    error: null,
    incomplete_details: null,
    instructions: extras.instructions,
    max_output_tokens: chat.maxTokens ?? null,
    model: meta.model,
    output,
    parallel_tool_calls: chat.parallelToolCalls ?? true,
    previous_response_id: extras.previousResponseId ?? null,
    reasoning: { effort: chat.reasoning?.effort ?? null, summary: null },
    store: extras.store,
    temperature: chat.temperature ?? 1,
    text: { format: { type: chat.responseFormat?.type ?? 'text' } },
    tool_choice: extras.toolChoice,
    tools: extras.tools,
    top_p: chat.topP ?? 1,
    truncation: 'disabled',
    usage: usage ? responsesUsage(usage) : null,
    metadata: extras.metadata,
    ...extra,
  };
}

function terminal(finish: FinishReason): { type: string; status: string; incomplete: Record<string, unknown> | null } {
  if (finish === 'length') return { type: 'response.incomplete', status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { type: 'response.incomplete', status: 'incomplete', incomplete: { reason: 'content_filter' } };
  return { type: 'response.completed', status: 'completed', incomplete: null };
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private readonly output: Item[] = [];
  private open: OpenItem | undefined;
  private readonly tools = new Map<number, OpenItem>();
  private usage: Usage | undefined;
  private finish: FinishReason | undefined;
  private readonly parts: ContentPart[] = [];

  constructor(
    private readonly shape: ResponseShape,
    private readonly onDone?: OnResponseDone,
  ) {}

  start(): string {
    // The same response twice (created, then in_progress): serialized once. These are the bytes
    // `emit` would give for { type, sequence_number, response }.
    const response = JSON.stringify(responseObject(this.shape, 'in_progress', [], null));
    return (
      `event: response.created\ndata: {"type":"response.created","sequence_number":${this.seq++},"response":${response}}\n\n` +
      `event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":${this.seq++},"response":${response}}\n\n`
    );
  }

  event(event: ChatEvent): string {
    switch (event.type) {
      case 'text-delta': {
        if (!event.text) return '';
        const out = this.text(event.text, event.json);
        if (!event.citations) return out;
        const open = this.open as Extract<OpenItem, { kind: 'message' }>;
        let added = '';
        for (const annotation of urlCitations(event.citations, open.text.length - event.text.length, open.text.length)) {
          added += this.emit('response.output_text.annotation.added', { item_id: open.item.id, output_index: open.index, content_index: 0, annotation_index: open.annotations.length, annotation });
          open.annotations.push(annotation);
        }
        return out + added;
      }
      case 'web-search': {
        const item = webSearchItem(event.query, event.sources);
        const index = this.output.length;
        this.output.push(item);
        const at = { item_id: item.id, output_index: index };
        return (
          this.close() +
          this.emit('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress' } }) +
          this.emit('response.web_search_call.in_progress', at) +
          this.emit('response.web_search_call.searching', at) +
          this.emit('response.web_search_call.completed', at) +
          this.emit('response.output_item.done', { output_index: index, item })
        );
      }
      case 'image': {
        if (!event.data) return this.text(imageMarkdown(event));
        // Asked for with the image_generation tool: an image_generation_call item, base64 result.
        const out = this.close();
        const item = imageGenerationItem(event.data, event.mimeType);
        const index = this.output.length;
        this.output.push(item);
        this.parts.push({ type: 'text', text: imageMarkdown(event) });
        const at = { item_id: item.id, output_index: index };
        return (
          out +
          this.emit('response.output_item.added', { output_index: index, item: { id: item.id, type: item.type, status: 'in_progress' } }) +
          this.emit('response.image_generation_call.in_progress', at) +
          this.emit('response.image_generation_call.generating', at) +
          this.emit('response.image_generation_call.completed', at) +
          this.emit('response.output_item.done', { output_index: index, item })
        );
      }
      case 'thinking-delta': {
        if (!event.text) return '';
        let out = '';
        if (this.open?.kind !== 'reasoning') out += this.openReasoning();
        const open = this.open as Extract<OpenItem, { kind: 'reasoning' }>;
        open.text += event.text;
        return out + this.emit('response.reasoning_summary_text.delta', { item_id: open.item.id, output_index: open.index, summary_index: 0, delta: event.text });
      }
      case 'thinking-signature': {
        let out = '';
        if (this.open?.kind !== 'reasoning') out += this.openReasoning();
        (this.open as Extract<OpenItem, { kind: 'reasoning' }>).signature += event.signature;
        return out;
      }
      case 'tool-call-start': {
        const kind = event.kind === 'custom' ? 'custom_tool_call' : 'function_call';
        const item: Item =
          kind === 'custom_tool_call'
            ? { id: ids.customToolCall(), type: kind, status: 'in_progress', call_id: styledCallId(event.id, 'call_'), name: event.name, input: '' }
            : { id: ids.functionCall(), type: kind, status: 'in_progress', call_id: styledCallId(event.id, 'call_'), name: event.name, arguments: '' };
        const out = this.close();
        const open: OpenItem = { kind, item, index: this.output.length, text: '', toolIndex: event.index };
        this.output.push(item);
        this.open = open;
        this.tools.set(event.index, open);
        return out + this.emit('response.output_item.added', { output_index: open.index, item: { ...item } });
      }
      case 'tool-call-delta': {
        const open = this.tools.get(event.index);
        if (!open || !event.argumentsDelta) return '';
        open.text += event.argumentsDelta;
        const name = open.kind === 'custom_tool_call' ? 'response.custom_tool_call_input.delta' : 'response.function_call_arguments.delta';
        return this.emit(name, { item_id: open.item.id, output_index: open.index, delta: event.argumentsDelta });
      }
      case 'tool-call-end': {
        const open = this.tools.get(event.index);
        return open && this.open === open ? this.close() : '';
      }
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
    const out = this.close();
    const finish = this.finish ?? 'stop'; // the pipeline always sends one finish
    const end = terminal(finish);
    this.onDone?.(this.shape.meta.id, { role: 'assistant', content: this.parts });
    const response = responseObject(this.shape, end.status, this.output, this.usage ?? null, { incomplete_details: end.incomplete });
    return out + this.emit(end.type, { response });
  }

  fail(error: GatewayError): string {
    const out = this.close('incomplete');
    const response = responseObject(this.shape, 'failed', this.output, this.usage ?? null, { error: { code: errorCode(error), message: error.message } });
    return out + this.emit('response.failed', { response });
  }

  ping(): string {
    return ': ping\n\n';
  }

  private emit(type: string, body: Record<string, unknown>): string {
    return sseEvent(type, { type, sequence_number: this.seq++, ...body });
  }

  /** `json`: the delta as its JSON string literal when the upstream's could be reused (core/types.ts). */
  private text(delta: string, json?: string): string {
    let out = '';
    if (this.open?.kind !== 'message') {
      out += this.close();
      const item: Item = { id: ids.responseMessage(), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      this.open = { kind: 'message', item, index: this.output.length, text: '', annotations: [] };
      this.output.push(item);
      out += this.emit('response.output_item.added', { output_index: this.open.index, item: { ...item, content: [] } });
      out += this.emit('response.content_part.added', { item_id: item.id, output_index: this.open.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    }
    const open = this.open as Extract<OpenItem, { kind: 'message' }>;
    open.text += delta;
    // Written by hand, the hot event of a stream: the bytes `emit` would give for
    // { type, sequence_number, item_id, output_index, content_index, delta, logprobs: [] }.
    return `${out}event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${this.seq++},"item_id":${JSON.stringify(open.item.id)},"output_index":${open.index},"content_index":0,"delta":${json ?? JSON.stringify(delta)},"logprobs":[]}\n\n`;
  }

  private openReasoning(): string {
    const out = this.close();
    const item: Item = { id: ids.reasoning(), type: 'reasoning', summary: [] };
    this.open = { kind: 'reasoning', item, index: this.output.length, text: '', signature: '' };
    this.output.push(item);
    return (
      out +
      this.emit('response.output_item.added', { output_index: this.open.index, item: { ...item, summary: [] } }) +
      this.emit('response.reasoning_summary_part.added', { item_id: item.id, output_index: this.open.index, summary_index: 0, part: { type: 'summary_text', text: '' } })
    );
  }

  /** Finish the open item: its done events, with the full text / arguments. */
  private close(status: 'completed' | 'incomplete' = 'completed'): string {
    const open = this.open;
    if (!open) return '';
    this.open = undefined;
    const { item, index, text } = open;
    const at = { item_id: item.id, output_index: index };
    switch (open.kind) {
      case 'message': {
        const part = { type: 'output_text', text, annotations: open.annotations, logprobs: [] };
        Object.assign(item, { status, content: [part] });
        this.parts.push({ type: 'text', text });
        return (
          this.emit('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] }) +
          this.emit('response.content_part.done', { ...at, content_index: 0, part: { type: 'output_text', text, annotations: open.annotations } }) +
          this.emit('response.output_item.done', { output_index: index, item })
        );
      }
      case 'reasoning': {
        Object.assign(item, { summary: text ? [{ type: 'summary_text', text }] : [] });
        item.encrypted_content = open.signature || UNSIGNED_REASONING;
        this.parts.push({ type: 'thinking', text, ...(open.signature ? { signature: open.signature } : {}) });
        return (
          this.emit('response.reasoning_summary_text.done', { ...at, summary_index: 0, text }) +
          this.emit('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: { type: 'summary_text', text } }) +
          this.emit('response.output_item.done', { output_index: index, item })
        );
      }
      case 'function_call': {
        Object.assign(item, { status, arguments: text });
        this.parts.push({ type: 'tool_call', id: String(item.call_id), name: String(item.name), arguments: text });
        return (
          this.emit('response.function_call_arguments.done', { ...at, name: item.name, arguments: text }) +
          this.emit('response.output_item.done', { output_index: index, item })
        );
      }
      case 'custom_tool_call': {
        Object.assign(item, { status, input: text });
        this.parts.push({ type: 'tool_call', kind: 'custom', id: String(item.call_id), name: String(item.name), arguments: text });
        return (
          this.emit('response.custom_tool_call_input.done', { ...at, input: text }) +
          this.emit('response.output_item.done', { output_index: index, item })
        );
      }
    }
  }
}

/** A generated image as the hosted image_generation tool returns it. */
function imageGenerationItem(data: string, mimeType: string | undefined): Item {
  const format = (mimeType ?? 'image/png').split('/')[1]?.split(';')[0] ?? 'png';
  return { id: ids.imageGenerationCall(), type: 'image_generation_call', status: 'completed', result: data, output_format: format };
}

export function encodeResponse(result: ChatResult, shape: ResponseShape, onDone?: OnResponseDone): Record<string, unknown> {
  const output: Item[] = [];
  const parts: ContentPart[] = [];
  for (const block of result.blocks) {
    switch (block.type) {
      case 'text': {
        const last = output[output.length - 1];
        const lastPart = parts[parts.length - 1];
        if (last?.type === 'message' && lastPart?.type === 'text') {
          // Adjacent text blocks (text, image link, text, cited spans) form one message.
          const content = last.content as Array<{ text: string; annotations: unknown[] }>;
          const start = content[0]!.text.length;
          content[0]!.text += block.text;
          if (block.citations) content[0]!.annotations.push(...urlCitations(block.citations, start, content[0]!.text.length));
          lastPart.text += block.text;
          break;
        }
        const annotations = block.citations ? urlCitations(block.citations, 0, block.text.length) : [];
        output.push({ id: ids.responseMessage(), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: block.text, annotations, logprobs: [] }] });
        parts.push({ type: 'text', text: block.text });
        break;
      }
      case 'web_search':
        output.push(webSearchItem(block.query, block.sources));
        break;
      case 'image':
        output.push(imageGenerationItem(block.data, block.mimeType));
        parts.push({ type: 'text', text: imageMarkdown(block) });
        break;
      case 'thinking':
        output.push({
          id: ids.reasoning(),
          type: 'reasoning',
          summary: block.text ? [{ type: 'summary_text', text: block.text }] : [],
          encrypted_content: block.signature || UNSIGNED_REASONING,
        });
        parts.push({ type: 'thinking', text: block.text, ...(block.signature ? { signature: block.signature } : {}) });
        break;
      case 'tool_call':
        output.push(
          block.kind === 'custom'
            ? { id: ids.customToolCall(), type: 'custom_tool_call', status: 'completed', call_id: styledCallId(block.id, 'call_'), name: block.name, input: block.arguments }
            : { id: ids.functionCall(), type: 'function_call', status: 'completed', call_id: styledCallId(block.id, 'call_'), name: block.name, arguments: block.arguments },
        );
        parts.push({ type: 'tool_call', id: String(output[output.length - 1]!.call_id), name: block.name, arguments: block.arguments, ...(block.kind === 'custom' ? { kind: 'custom' as const } : {}) });
        break;
    }
  }
  onDone?.(shape.meta.id, { role: 'assistant', content: parts });
  const end = terminal(result.finish);
  const text = output
    .filter((item) => item.type === 'message')
    .map((item) => (item.content as Array<{ text: string }>).map((c) => c.text).join(''))
    .join('');
  return { ...responseObject(shape, end.status, output, result.usage ?? null, { incomplete_details: end.incomplete }), output_text: text };
}

export function responsesAdapter(extras: ResponsesExtras, onDone?: OnResponseDone): ProtocolAdapter {
  return {
    protocol: 'openai',
    newId: ids.response,
    inputTokensUpfront: false,
    createEncoder: (meta, chat) => new ResponsesStreamEncoder({ meta, chat, extras }, onDone),
    encodeResult: (result, meta, chat) => encodeResponse(result, { meta, chat, extras }, onDone),
  };
}

// Collects a ChatEvent stream into one result, for non-streaming responses: the same events a
// stream would carry, folded in order. An `error` event (or a thrown error) rejects.

import type { FinishEvent } from './event-contract.js';
import type { ChatEvent, Citation, FinishReason, Usage, WebSource } from './types.js';
import { imageMarkdown } from './types.js';

export type ResultBlock =
  | { type: 'text'; text: string; citations?: Citation[] }
  | { type: 'web_search'; id: string; query: string; sources: WebSource[] }
  | { type: 'thinking'; text: string; signature?: string }
  | { type: 'image'; url: string; mimeType: string; alt?: string; data: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string; kind: 'function' | 'custom' };

export interface ChatResult {
  blocks: ResultBlock[];
  usage?: Usage;
  finish: FinishReason;
  stopSequence?: string;
}

/**
 * `see` may hold events back (return false) before they are folded in: usage tracking and the
 * event contract, which then gives the one finish (`finish`).
 */
/** Builds the whole answer from events, for clients that did not ask for a stream. */
export class Collector {
  private readonly blocks: ResultBlock[] = [];
  private readonly toolByIndex = new Map<number, Extract<ResultBlock, { type: 'tool_call' }>>();
  private usage: Usage | undefined;

  /** One event that passed the gate (finishes are held back; the one finish goes to result()). */
  add(event: ChatEvent): void {
    const blocks = this.blocks;
    const last = blocks[blocks.length - 1];
    switch (event.type) {
      case 'text-delta':
        // A cited span stays its own block (Anthropic shows it as one text block with its citations).
        if (event.citations) blocks.push({ type: 'text', text: event.text, citations: event.citations });
        else if (last?.type === 'text' && !last.citations) last.text += event.text;
        else blocks.push({ type: 'text', text: event.text });
        break;
      case 'web-search':
        blocks.push({ type: 'web_search', id: event.id, query: event.query, sources: event.sources });
        break;
      case 'thinking-delta':
        if (last?.type === 'thinking' && last.signature === undefined) last.text += event.text;
        else blocks.push({ type: 'thinking', text: event.text });
        break;
      case 'thinking-signature':
        if (last?.type === 'thinking') last.signature = (last.signature ?? '') + event.signature;
        else blocks.push({ type: 'thinking', text: '', signature: event.signature });
        break;
      case 'tool-call-start': {
        const block = { type: 'tool_call' as const, id: event.id, name: event.name, arguments: '', kind: event.kind ?? 'function' };
        this.toolByIndex.set(event.index, block);
        blocks.push(block);
        break;
      }
      case 'tool-call-delta': {
        const block = this.toolByIndex.get(event.index);
        if (block) block.arguments += event.argumentsDelta;
        break;
      }
      case 'tool-call-end':
        break;
      case 'image':
        // Images reach clients as Markdown links in the text, unless the client asked for the data.
        if (event.data) blocks.push({ type: 'image', url: event.url, mimeType: event.mimeType ?? 'image/png', data: event.data, ...(event.alt ? { alt: event.alt } : {}) });
        else blocks.push({ type: 'text', text: imageMarkdown(event) });
        break;
      case 'usage':
        this.usage = event.usage;
        break;
      case 'finish':
        break; // held back by the gate; the one finish comes with result()
      case 'error':
        throw event.error;
    }
  }

  result(end: FinishEvent): ChatResult {
    const result: ChatResult = { blocks: this.blocks, finish: end.reason };
    if (this.usage) result.usage = this.usage;
    if (end.stopSequence !== undefined) result.stopSequence = end.stopSequence;
    return result;
  }
}

export async function collect(events: AsyncIterable<ChatEvent>, see: (event: ChatEvent) => boolean, finish: () => FinishEvent): Promise<ChatResult> {
  const collector = new Collector();
  for await (const event of events) if (see(event)) collector.add(event);
  return collector.result(finish());
}

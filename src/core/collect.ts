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
export async function collect(events: AsyncIterable<ChatEvent>, see: (event: ChatEvent) => boolean, finish: () => FinishEvent): Promise<ChatResult> {
  const blocks: ResultBlock[] = [];
  const toolByIndex = new Map<number, Extract<ResultBlock, { type: 'tool_call' }>>();
  let usage: Usage | undefined;

  for await (const event of events) {
    if (!see(event)) continue;
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
        toolByIndex.set(event.index, block);
        blocks.push(block);
        break;
      }
      case 'tool-call-delta': {
        const block = toolByIndex.get(event.index);
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
        usage = event.usage;
        break;
      case 'finish':
        break; // held back by `see`; the one finish comes from `finish()`
      case 'error':
        throw event.error;
    }
  }
  const end = finish();
  const result: ChatResult = { blocks, finish: end.reason };
  if (usage) result.usage = usage;
  if (end.stopSequence !== undefined) result.stopSequence = end.stopSequence;
  return result;
}

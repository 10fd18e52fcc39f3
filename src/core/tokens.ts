// Token counts for count_tokens and for usage when an upstream reports none. count_tokens gets the
// real BPE (o200k, gpt-tokenizer) in a worker thread that holds its ~67 MiB of tables only while
// counts arrive; usage gets a table-driven estimate (token-estimate.ts, within a few per cent of the
// BPE on client requests) that needs no tables at all. Both approximate each upstream's own
// tokenizer, far closer than characters / 4.

import { BpeWorker } from './bpe-worker.js';
import { estimateTextTokens } from './token-estimate.js';
import type { ChatRequest, ContentPart } from './types.js';

/** The exact BPE, in a worker started on first use and ended when idle (see bpe-worker.ts). */
let bpe: BpeWorker | undefined;

function exact(): BpeWorker {
  return (bpe ??= new BpeWorker());
}

/** Start the exact counter now (a benchmark or test that times counts without the start-up). */
export async function loadTokenizer(): Promise<void> {
  await exact().count('warm up');
}

/** Fixed cost of an image or file: roughly what Anthropic charges for a ~1 megapixel image. */
const IMAGE_TOKENS = 1600;
/** Per-message framing (role markers and separators). */
const MESSAGE_OVERHEAD = 4;

type Counted = Pick<ChatRequest, 'system' | 'messages' | 'tools'>;

/** Exact o200k count of a request (count_tokens): the BPE in its worker. */
export async function countRequestTokens(request: Counted): Promise<number> {
  const { fixed, text } = requestText(request);
  return fixed + (text ? await exact().count(text) : 0);
}

/** Estimated count of a request (usage when the upstream reports none): no tokenizer. */
export function estimateRequestTokens(request: Counted): number {
  const { fixed, text } = requestText(request);
  return fixed + estimateTextTokens(text);
}

/** Exact o200k count of a text. */
export async function countTextTokens(text: string): Promise<number> {
  return text ? exact().count(text) : 0;
}

/** The text a request is counted from, and the tokens counted at a fixed cost (framing, images). */
function requestText(request: Counted): { fixed: number; text: string } {
  let fixed = 0;
  let text = '';
  for (const part of request.system) text += part.text + '\n';
  for (const message of request.messages) {
    fixed += MESSAGE_OVERHEAD;
    for (const part of message.content) {
      const rendered = renderPart(part);
      if (rendered === null) fixed += IMAGE_TOKENS;
      else text += rendered + '\n';
    }
  }
  for (const tool of request.tools) {
    text += `${tool.name}\n${tool.description ?? ''}\n${tool.parameters ? JSON.stringify(tool.parameters) : ''}\n`;
  }
  return { fixed, text };
}

/** Text for counting; null for parts counted at a fixed cost. */
function renderPart(part: ContentPart): string | null {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'thinking':
      return part.text;
    case 'tool_call':
      return `${part.name} ${part.arguments}`;
    case 'tool_result':
      return part.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    case 'image':
    case 'file':
      return null;
  }
}

/** A quick estimate without the tokenizer (about 4 characters a token), for placeholders. */
export function estimateTokens(request: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): number {
  let chars = 0;
  for (const part of request.system) chars += part.text.length;
  for (const message of request.messages) {
    for (const part of message.content) {
      const rendered = renderPart(part);
      chars += rendered === null ? IMAGE_TOKENS * 4 : rendered.length;
    }
  }
  for (const tool of request.tools) chars += tool.name.length + (tool.description?.length ?? 0) + (tool.parameters ? JSON.stringify(tool.parameters).length : 0);
  return Math.max(1, Math.ceil(chars / 4));
}

// Token counts for count_tokens and for usage when an upstream reports none. A real BPE tokenizer
// (o200k, gpt-tokenizer), loaded on first use: its tables cost memory the idle gateway should not
// pay. Counts are approximations of each upstream's own tokenizer, far closer than characters / 4.

import type { ChatRequest, ContentPart } from './types.js';

type Counter = (text: string) => number;
let counter: Counter | undefined;
let loading: Promise<Counter> | undefined;

export function loadTokenizer(): Promise<Counter> {
  if (counter) return Promise.resolve(counter);
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => (counter = (text: string) => countInSlices(m.countTokens, text)));
  return loading;
}

/** A run without whitespace this long (CJK text, base64, minified code) is counted in slices. */
const LONG_RUN = /\S{256,}/g;

/**
 * BPE merging is quadratic in a pre-token, and a run without whitespace is one pre-token: 130 KB of
 * Chinese took 11 s of event loop in one call. Counting such runs in 256-character slices gives the
 * same count to within a token per slice, in milliseconds.
 */
function countInSlices(count: (text: string) => number, text: string): number {
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    total += count(text.slice(last, match.index));
    const run = match[0];
    for (let i = 0; i < run.length; i += 256) total += count(run.slice(i, i + 256));
    last = match.index + run.length;
  }
  return total + (last < text.length ? count(text.slice(last)) : 0);
}

/** Fixed cost of an image or file: roughly what Anthropic charges for a ~1 megapixel image. */
const IMAGE_TOKENS = 1600;
/** Per-message framing (role markers and separators). */
const MESSAGE_OVERHEAD = 4;

export async function countRequestTokens(request: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): Promise<number> {
  const count = await loadTokenizer();
  let total = 0;
  let text = '';
  for (const part of request.system) text += part.text + '\n';
  for (const message of request.messages) {
    total += MESSAGE_OVERHEAD;
    for (const part of message.content) {
      const rendered = renderPart(part);
      if (rendered === null) total += IMAGE_TOKENS;
      else text += rendered + '\n';
    }
  }
  for (const tool of request.tools) {
    text += `${tool.name}\n${tool.description ?? ''}\n${tool.parameters ? JSON.stringify(tool.parameters) : ''}\n`;
  }
  return total + (text ? count(text) : 0);
}

/** Output token estimate from text that was streamed. */
export async function countTextTokens(text: string): Promise<number> {
  if (!text) return 0;
  return (await loadTokenizer())(text);
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

// Conversation reuse. Stateless clients resend the whole history every turn; when a request
// continues a turn we finished, we continue that Gemini chat (same account, same model) and send
// only the new turns. Keys hash the client's conversation key (Codex prompt_cache_key, Claude Code
// session), the system text and the normalized messages, so unrelated conversations that start
// alike never share a Gemini chat. Bounded by count and age.

import { createHash, type Hash } from 'node:crypto';
import type { ChatRequest, ContentPart, Message } from '../../core/types.js';
import { canonicalJson } from '../../core/canonical-json.js';

export interface StoredConversation {
  account: string;
  model: string;
  /** [cid, rid, rcid, null×6, context] for the next request. */
  metadata: unknown[];
  /** Turns in the Gemini chat so far (the payload's turn index for the next one). */
  turns?: number;
}

/** What identifies a message across turns (echoed thinking and signatures are left out). */
function normalize(message: Message): string {
  const parts: string[] = [];
  let text = '';
  const flush = () => {
    if (text.trim()) parts.push(`t:${text.trim()}`);
    text = '';
  };
  for (const part of message.content as ContentPart[]) {
    switch (part.type) {
      case 'text':
        text += part.text;
        break;
      case 'tool_call':
        flush();
        parts.push(`c:${part.name}:${canonicalJson(part.arguments)}`);
        break;
      case 'tool_result':
        flush();
        parts.push(`r:${part.content.map((c) => (c.type === 'text' ? c.text.trim() : `img:${c.data?.length ?? c.url}`)).join('|')}`);
        break;
      case 'image':
      case 'file':
        flush();
        parts.push(`a:${part.data ? createHash('sha256').update(part.data).digest('base64url') : part.url}`);
        break;
      case 'thinking':
        break;
    }
  }
  flush();
  // A user message and a tool message hold the same kind of turn for our purpose: the client's side.
  const role = message.role === 'tool' ? 'user' : message.role;
  return `${role}\u0001${parts.join('\u0002')}\u0003`;
}

function start(request: Pick<ChatRequest, 'system' | 'conversationKey'>, model: string): Hash {
  const hash = createHash('sha256');
  hash.update(`${request.conversationKey ?? ''}\u0000${model}\u0000`);
  for (const s of request.system) hash.update(s.text);
  hash.update('\u0000');
  return hash;
}

/** Keys of every prefix that ends with an assistant turn, longest first. */
export function prefixKeys(request: Pick<ChatRequest, 'system' | 'conversationKey' | 'messages'>, model: string): Array<{ key: string; length: number }> {
  const hash = start(request, model);
  const keys: Array<{ key: string; length: number }> = [];
  request.messages.forEach((message, i) => {
    hash.update(normalize(message));
    if (message.role === 'assistant') keys.push({ key: hash.copy().digest('base64url'), length: i + 1 });
  });
  return keys.reverse();
}

/** The key a finished turn is stored under: the request's messages plus our answer. */
export function turnKey(request: Pick<ChatRequest, 'system' | 'conversationKey' | 'messages'>, model: string, answer: Message): string {
  const hash = start(request, model);
  for (const message of request.messages) hash.update(normalize(message));
  hash.update(normalize(answer));
  return hash.digest('base64url');
}

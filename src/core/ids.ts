// Identifiers in each protocol's own style. Random, URL-safe, no dependency on request data.

import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

// Random bytes are drawn 4 KB at a time: one system call per ~170 ids instead of one per id.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

/** `prefix` + `length` random alphanumerics (62 symbols from one byte each; the slight bias is fine for ids). */
export function randomId(prefix: string, length = 24): string {
  if (offset + length > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  let out = prefix;
  for (let i = 0; i < length; i++) out += ALPHABET[pool[offset + i]! % 62];
  offset += length;
  return out;
}

export const ids = {
  anthropicMessage: () => randomId('msg_'),
  chatCompletion: () => randomId('chatcmpl-'),
  toolCall: () => randomId('call_'),
  response: () => randomId('resp_'),
  responseMessage: () => randomId('msg_'),
  reasoning: () => randomId('rs_'),
  functionCall: () => randomId('fc_'),
  customToolCall: () => randomId('ctc_'),
  webSearchCall: () => randomId('ws_'),
  imageGenerationCall: () => randomId('ig_'),
  serverToolUse: () => randomId('srvtoolu_'),
};

/** A tool call id in a protocol's style (`toolu_…` for Anthropic, `call_…` for OpenAI), same suffix. */
export function styledCallId(id: string, prefix: 'toolu_' | 'call_'): string {
  if (!id) return randomId(prefix);
  if (id.startsWith(prefix)) return id;
  return prefix + id.replace(/^(toolu_|call_|fc_)/, '');
}

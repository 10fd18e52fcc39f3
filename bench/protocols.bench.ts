// Decode and encode cost of each client protocol, and count_tokens (exact) and the usage estimate on a
// real 80 KB Claude Code request. Run: npm run bench:protocols (vitest bench; ops/s and mean time per operation).
import { bench, describe } from 'vitest';
import { collect } from '../src/core/collect.js';
import { countRequestTokens, estimateRequestTokens, loadTokenizer } from '../src/core/tokens.js';
import type { ChatEvent } from '../src/core/types.js';
import { decodeAnthropicRequest } from '../src/protocols/anthropic/decode.js';
import { AnthropicStreamEncoder } from '../src/protocols/anthropic/encode.js';
import { decodeChatRequest } from '../src/protocols/openai-chat/decode.js';
import { ChatStreamEncoder } from '../src/protocols/openai-chat/encode.js';
import { decodeResponsesRequest } from '../src/protocols/openai-responses/decode.js';
import { ResponsesStreamEncoder } from '../src/protocols/openai-responses/encode.js';
import { capturedBody } from './fixtures.js';

const claudeCode = capturedBody('claude-code_01_messages_first_turn.json');
const codex = capturedBody('codex_01_responses_first_turn_gpt-5.5.json');
const smallChat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hi' }], stream: true };
const claudeCodeJson = JSON.stringify(claudeCode);
const codexJson = JSON.stringify(codex);
await loadTokenizer();

const CHUNKS = 100;
const textEvents: ChatEvent[] = [
  ...Array.from({ length: CHUNKS }, (_, i): ChatEvent => ({ type: 'text-delta', text: `token${i} ` })),
  { type: 'usage', usage: { inputTokens: 10, outputTokens: CHUNKS } },
  { type: 'finish', reason: 'stop' },
];
const meta = { id: 'id_1', model: 'm', created: 0, inputTokens: 10 };
const chat = decodeChatRequest(smallChat);

function encodeAll(encoder: { start(): string; event(e: ChatEvent): string; end(): string }): number {
  let bytes = encoder.start().length;
  for (const e of textEvents) bytes += encoder.event(e).length;
  return bytes + encoder.end().length;
}

describe(`decode (JSON.parse included): Claude Code ${(claudeCodeJson.length / 1024).toFixed(0)} KB, Codex ${(codexJson.length / 1024).toFixed(0)} KB`, () => {
  bench('anthropic: Claude Code first turn', () => {
    decodeAnthropicRequest(JSON.parse(claudeCodeJson));
  });
  bench('responses: Codex first turn', () => {
    decodeResponsesRequest(JSON.parse(codexJson));
  });
  bench('chat: small request', () => {
    decodeChatRequest(JSON.parse(JSON.stringify(smallChat)));
  });
});

describe(`encode a ${CHUNKS}-chunk text stream (divide by ${CHUNKS} for per-chunk cost)`, () => {
  bench('anthropic SSE', () => {
    encodeAll(new AnthropicStreamEncoder(meta));
  });
  bench('chat SSE', () => {
    encodeAll(new ChatStreamEncoder(meta, true));
  });
  bench('responses SSE', () => {
    encodeAll(new ResponsesStreamEncoder({ meta, chat, extras: { store: false, tools: [], toolChoice: 'auto', instructions: null, metadata: {}, reasoningSummary: false, dropped: [] } }));
  });
  bench('collect (non-stream path)', async () => {
    await collect((async function* () { yield* textEvents; })(), () => true, () => ({ type: 'finish', reason: 'stop' }));
  });
});

describe('token counts', () => {
  const request = decodeAnthropicRequest(claudeCode);
  bench(`count_tokens: Claude Code first turn (${(claudeCodeJson.length / 1024).toFixed(0)} KB, o200k in its worker)`, async () => {
    await countRequestTokens(request);
  });
  bench(`usage estimate: the same request (no tokenizer)`, () => {
    estimateRequestTokens(request);
  });
});

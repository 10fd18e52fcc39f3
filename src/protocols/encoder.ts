// What every client protocol provides to the shared serving pipeline (src/pipeline/serve.ts):
// a decoder (in its route), a stream encoder and a whole-response encoder; and the pipeline as
// protocol routes see it (ServeChat), so protocols/ never imports the pipeline.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatResult } from '../core/collect.js';
import type { GatewayError } from '../core/gateway-error.js';
import type { ChatEvent, ChatRequest } from '../core/types.js';
import type { ClientProtocol } from './errors.js';

export interface ResponseMeta {
  /** The response id in the protocol's style (msg_…, chatcmpl-…, resp_…). */
  id: string;
  /** The model name the client asked for: echoed back unchanged. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** Input token count (local estimate) when the protocol needs one before the upstream reports usage. */
  inputTokens?: number;
}

/** Turns canonical events into SSE text. Methods return the bytes to write ('' for nothing). */
export interface StreamEncoder {
  /** Written when the stream is committed (before or with the first event). */
  start(): string;
  event(event: ChatEvent): string;
  /** The upstream finished normally. A `usage` event always precedes this call. */
  end(): string;
  /** The upstream failed after the stream started: the protocol's in-stream error, then close. */
  fail(error: GatewayError): string;
  /** Keep-alive while the upstream is silent. */
  ping(): string;
}

export interface ProtocolAdapter {
  protocol: ClientProtocol;
  newId(): string;
  /** Count input tokens before the first byte (Anthropic message_start carries them). */
  inputTokensUpfront: boolean;
  createEncoder(meta: ResponseMeta, request: ChatRequest): StreamEncoder;
  encodeResult(result: ChatResult, meta: ResponseMeta, request: ChatRequest): unknown;
}

/** Serve one decoded request with the protocol's adapter (routing, fallback, streaming, errors). */
export type ServeChat = (request: FastifyRequest, reply: FastifyReply, chat: ChatRequest, adapter: ProtocolAdapter) => Promise<FastifyReply>;

/** `event: name` + `data: json` framing (Anthropic, Responses). */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}


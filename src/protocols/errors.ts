// A GatewayError as the client's protocol answers it: status, Retry-After and envelope. Each
// protocol's table lives in its folder (anthropic/errors.ts, openai-chat/errors.ts).

import type { GatewayError } from '../core/gateway-error.js';
import { ANTHROPIC_ERRORS, anthropicErrorBody } from './anthropic/errors.js';
import { OPENAI_ERRORS, openAIErrorBody } from './openai-chat/errors.js';

export type ClientProtocol = 'openai' | 'anthropic';

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function retryHeaders(error: GatewayError): Record<string, string> {
  return error.retryAfter === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryAfter)) };
}

export function errorReply(protocol: ClientProtocol, error: GatewayError): ErrorReply {
  if (protocol === 'anthropic') {
    return { status: ANTHROPIC_ERRORS[error.kind].status, headers: retryHeaders(error), body: anthropicErrorBody(error) };
  }
  return { status: OPENAI_ERRORS[error.kind].status, headers: retryHeaders(error), body: openAIErrorBody(error) };
}


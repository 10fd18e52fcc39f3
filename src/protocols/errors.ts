// One mapping per client protocol from GatewayError kinds to HTTP status and error envelope.
// Also turns Fastify's own errors (bad JSON, body too large, wrong content type) into
// GatewayErrors so nothing reaches a client as a bare 500.

import { GatewayError, type GatewayErrorKind } from '../core/gateway-error.js';

export type ClientProtocol = 'openai' | 'anthropic';

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const OPENAI: Record<GatewayErrorKind, { status: number; type: string }> = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  authentication: { status: 401, type: 'invalid_request_error' },
  permission: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  upgrade_required: { status: 426, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  upstream_overloaded: { status: 503, type: 'server_error' },
  upstream_unavailable: { status: 502, type: 'server_error' },
  timeout: { status: 504, type: 'server_error' },
  internal: { status: 500, type: 'server_error' },
};

// Anthropic's documented error types; 529 is its "overloaded" status, which its SDKs retry.
const ANTHROPIC: Record<GatewayErrorKind, { status: number; type: string }> = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  authentication: { status: 401, type: 'authentication_error' },
  permission: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  request_too_large: { status: 413, type: 'request_too_large' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  upgrade_required: { status: 426, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  upstream_overloaded: { status: 529, type: 'overloaded_error' },
  upstream_unavailable: { status: 502, type: 'api_error' },
  timeout: { status: 504, type: 'timeout_error' },
  internal: { status: 500, type: 'api_error' },
};

function retryHeaders(error: GatewayError): Record<string, string> {
  return error.retryAfter === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryAfter)) };
}

export function openAIErrorBody(error: GatewayError): { error: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    message: error.message,
    type: OPENAI[error.kind].type,
    param: error.param ?? null,
    code: error.code ?? null,
  };
  if (error.details !== undefined) body.details = error.details;
  return { error: body };
}

export function anthropicErrorBody(error: GatewayError): { type: 'error'; error: Record<string, unknown> } {
  const body: Record<string, unknown> = { type: ANTHROPIC[error.kind].type, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return { type: 'error', error: body };
}

export function errorReply(protocol: ClientProtocol, error: GatewayError): ErrorReply {
  if (protocol === 'anthropic') {
    return { status: ANTHROPIC[error.kind].status, headers: retryHeaders(error), body: anthropicErrorBody(error) };
  }
  return { status: OPENAI[error.kind].status, headers: retryHeaders(error), body: openAIErrorBody(error) };
}

interface HttpLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Any thrown value -> GatewayError. Unknown errors become `internal` without leaking their text. */
export function toGatewayError(value: unknown): GatewayError {
  if (value instanceof GatewayError) return value;
  const err = (value ?? {}) as HttpLikeError;
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('request_too_large', 'Request body is too large', { code: 'request_too_large' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('unsupported_media_type', 'Unsupported Content-Type: send application/json', {
        code: 'unsupported_media_type',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_request', 'Request body is empty: expected a JSON object', {
        code: 'invalid_json',
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError('invalid_request', `Malformed JSON in request body: ${err.message ?? ''}`.trim(), {
        code: 'invalid_json',
      });
  }
  if (err instanceof SyntaxError || (status === 400 && err.message)) {
    return new GatewayError('invalid_request', err.message ?? 'Invalid request', { code: 'invalid_request' });
  }
  if (status >= 400 && status < 500) {
    const kind: GatewayErrorKind =
      status === 401 ? 'authentication' : status === 403 ? 'permission' : status === 404 ? 'not_found'
        : status === 413 ? 'request_too_large' : status === 415 ? 'unsupported_media_type'
          : status === 429 ? 'rate_limited' : 'invalid_request';
    return new GatewayError(kind, err.message ?? 'Invalid request');
  }
  if (status === 503) return new GatewayError('upstream_unavailable', 'Service unavailable');
  return new GatewayError('internal', 'Internal gateway error', { cause: value });
}

// OpenAI's error envelope: GatewayError kind -> HTTP status and `error.type`. Used by Chat
// Completions, Responses and every route that is not Anthropic's (admin, models, unknown paths).

import type { GatewayError, GatewayErrorKind } from '../../core/gateway-error.js';

export const OPENAI_ERRORS: Record<GatewayErrorKind, { status: number; type: string }> = {
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

export function openAIErrorBody(error: GatewayError): { error: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    message: error.message,
    type: OPENAI_ERRORS[error.kind].type,
    param: error.param ?? null,
    code: error.code ?? null,
  };
  if (error.details !== undefined) body.details = error.details;
  return { error: body };
}


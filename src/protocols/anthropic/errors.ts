// Anthropic's error envelope: GatewayError kind -> HTTP status and `error.type`.

import type { GatewayError, GatewayErrorKind } from '../../core/gateway-error.js';

// Anthropic's documented error types; 529 is its "overloaded" status, which its SDKs retry.
export const ANTHROPIC_ERRORS: Record<GatewayErrorKind, { status: number; type: string }> = {
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

export function anthropicErrorBody(error: GatewayError): { type: 'error'; error: Record<string, unknown> } {
  const body: Record<string, unknown> = { type: ANTHROPIC_ERRORS[error.kind].type, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return { type: 'error', error: body };
}


// A failed HTTP call to an upstream (connect refused, reset, DNS, timeout) as a GatewayError, the
// same way for every provider, so the fallback loop can tell what is worth another try.

import { GatewayError } from '../core/gateway-error.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** A transport failure (connect, reset, timeout) -> GatewayError. */
export function transportError(error: unknown, what: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  if ((code && TIMEOUT_CODES.has(code)) || err.name === 'TimeoutError') {
    return new GatewayError('timeout', `${what}: timed out (${code ?? err.name})`, { code: 'upstream_timeout', cause: error });
  }
  if (code && NETWORK_CODES.has(code)) {
    return new GatewayError('upstream_unavailable', `${what}: ${code}`, { code: 'upstream_unreachable', cause: error });
  }
  return new GatewayError('upstream_unavailable', `${what}: ${err.message ?? String(error)}`, { code: 'upstream_error', cause: error });
}

// Upstream failures -> GatewayError kinds, so the router knows what may be retried or fallen back
// on (connect errors, timeouts, 429, 5xx, usage limits) and what never is (invalid requests).

import { GatewayError, type GatewayErrorKind } from '../../core/gateway-error.js';

type Json = Record<string, unknown>;

const USAGE_LIMIT = /rate.?limit|quota|usage limit|too many requests|insufficient.?(credit|balance|quota)/i;

function messageOf(body: Json | undefined, fallback: string): string {
  const error = body?.error;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const message = (error as Json).message;
    if (typeof message === 'string' && message) return message;
  }
  if (typeof body?.detail === 'string') return body.detail;
  if (typeof body?.message === 'string') return body.message;
  return fallback;
}

export function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - Date.now()) / 1000)) : undefined;
}

/** An upstream HTTP error (or an error payload inside a 200 stream). */
export function upstreamErrorFromBody(body: Json | undefined, status: number, retryAfter?: number): GatewayError {
  const upstreamMessage = messageOf(body, `HTTP ${status}`).slice(0, 500);
  let kind: GatewayErrorKind;
  if (status === 429 || status === 402 || USAGE_LIMIT.test(upstreamMessage)) kind = 'rate_limited';
  else if (status === 401 || status === 403) kind = 'upstream_unavailable'; // the gateway's credentials, not the client's
  else if (status === 404) kind = 'not_found';
  else if (status === 413) kind = 'request_too_large';
  else if (status === 408 || status === 504) kind = 'timeout';
  else if (status === 503 || status === 529) kind = 'upstream_overloaded';
  else if (status >= 500 || status === 200) kind = 'upstream_unavailable';
  else kind = 'invalid_request';
  const code = kind === 'not_found' ? 'model_not_found' : `upstream_${status}`;
  return new GatewayError(kind, `Upstream error: ${upstreamMessage}`, { code, ...(retryAfter !== undefined ? { retryAfter } : {}) });
}

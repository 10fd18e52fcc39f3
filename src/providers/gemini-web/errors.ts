// Gemini web failures -> GatewayError kinds (clients get 429 / 503 / 400 in their own protocol)
// and -> what happens to the account (cool down, block, expire).

import { GatewayError } from '../../core/gateway-error.js';

export type AccountEffect = 'none' | 'cooling' | 'blocked' | 'expired';

export class GeminiError extends GatewayError {
  constructor(
    kind: GatewayError['kind'],
    message: string,
    readonly effect: AccountEffect = 'none',
    options: { code?: string; retryAfter?: number; geminiCode?: number; retryable?: boolean } = {},
  ) {
    super(kind, message, {
      ...(options.code ? { code: options.code } : {}),
      ...(options.retryAfter !== undefined ? { retryAfter: options.retryAfter } : {}),
      ...(options.retryable !== undefined ? { retryable: options.retryable } : {}),
    });
    this.geminiCode = options.geminiCode;
  }
  readonly geminiCode: number | undefined;
}

/** An in-band BardErrorInfo code (HTTP 200 body). */
export function fromErrorCode(code: number | null, status: number | null): GeminiError {
  switch (code) {
    case 1037:
      return new GeminiError('rate_limited', 'Gemini usage limit reached for this model (1037)', 'cooling', { code: 'usage_limit', geminiCode: code });
    case 1060:
      return new GeminiError('upstream_overloaded', 'Gemini temporarily blocked this IP or region (1060)', 'blocked', { code: 'ip_blocked', geminiCode: code });
    case 1050:
      return new GeminiError('invalid_request', 'Gemini: the model differs from the one this conversation started with (1050)', 'none', { code: 'model_inconsistent', geminiCode: code });
    case 1052:
      return new GeminiError('invalid_request', 'Gemini rejected the model header: the model id may be stale (1052)', 'none', { code: 'model_invalid', geminiCode: code });
    case 1013:
      return new GeminiError('upstream_unavailable', 'Gemini temporary error (1013)', 'none', { code: 'gemini_temporary', geminiCode: code });
    case null:
      return new GeminiError('upstream_unavailable', `Gemini rejected the request without an answer (status ${status ?? '?'})`, 'none', { code: 'gemini_rejected' });
    default:
      return new GeminiError('upstream_unavailable', `Gemini error ${code}`, 'none', { code: 'gemini_error', geminiCode: code });
  }
}

/** A non-200 HTTP answer from a Gemini endpoint. */
export function fromHttpStatus(status: number, where: string, body = ''): GeminiError {
  if (status === 429 || /automated queries|unusual traffic/i.test(body)) {
    return new GeminiError('rate_limited', `Gemini ${where}: too many requests from this IP (HTTP ${status})`, 'cooling', { code: 'ip_rate_limited' });
  }
  if (status === 401 || status === 403) return new GeminiError('upstream_unavailable', `Gemini ${where}: cookies rejected (HTTP ${status})`, 'expired', { code: 'cookies_expired' });
  if (status === 400) return new GeminiError('upstream_unavailable', `Gemini ${where}: request rejected (HTTP 400; stale access token?)`, 'none', { code: 'gemini_bad_request' });
  return new GeminiError('upstream_unavailable', `Gemini ${where}: HTTP ${status}`, 'none', { code: 'gemini_http_error' });
}

/** Account status codes from otAQ7b that mean the account cannot be used. */
export function fromAccountStatus(status: number): GeminiError | undefined {
  if (status === 1000) return undefined;
  if (status === 1016) return new GeminiError('upstream_unavailable', 'Gemini cookies are not logged in or expired (status 1016)', 'expired', { code: 'cookies_expired' });
  if ([1014, 1021, 1054, 1057, 1060].includes(status)) {
    return new GeminiError('upstream_unavailable', `Gemini account or location rejected (status ${status})`, 'blocked', { code: 'account_rejected' });
  }
  return undefined; // ToS pending, untrusted...: usable for chat
}

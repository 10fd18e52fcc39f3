// Gemini web failures -> GatewayError kinds (clients get 429 / 503 / 400 in their own protocol)
// and -> what happens to the account (cool down, block, expire).

import { GatewayError } from '../../core/gateway-error.js';

/** What a failure does to the account: rest it, block it, expire it, or rest its egress (IP block). */
export type AccountEffect = 'none' | 'cooling' | 'blocked' | 'expired' | 'ip_block';

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
    case 1155:
      return emptyAnswer();
    case 1100:
      // An attachment referenced by a signed-out session: the cookies expired and Google answered as a guest.
      return new GeminiError('upstream_unavailable', 'Gemini refused the attachment as for a signed-out visitor (1100): the cookies expired', 'expired', { code: 'cookies_expired', geminiCode: code });
    case null:
      return new GeminiError('upstream_unavailable', `Gemini rejected the request without an answer (status ${status ?? '?'})`, 'none', { code: 'gemini_rejected' });
    default:
      return new GeminiError('upstream_unavailable', `Gemini error ${code}`, 'none', { code: 'gemini_error', geminiCode: code });
  }
}

/** HTTP 200 without any content frame (1155, tied to dirty exit IPs): worth the same account again. */
export function emptyAnswer(): GeminiError {
  return new GeminiError('upstream_unavailable', 'Gemini answered without any content (1155)', 'none', { code: 'gemini_empty', geminiCode: 1155 });
}

/** Google's "unusual traffic" answer (a 302 to /sorry or a 429) from any endpoint: the egress IP is blocked for ~2 h. */
export function ipBlocked(where: string, status: number): GeminiError {
  return new GeminiError('rate_limited', `Google is blocking this IP (${where}: ${status === 429 ? 'HTTP 429' : 'redirect to /sorry'}); it usually lifts after about two hours`, 'ip_block', { code: 'ip_blocked' });
}

/** A redirect to Google's captcha page. */
export function isSorryRedirect(status: number, location: string | undefined): boolean {
  return status >= 300 && status < 400 && location !== undefined && /\/sorry\/|google_abuse/.test(location);
}

/** A non-200 HTTP answer from a Gemini endpoint. */
export function fromHttpStatus(status: number, where: string, body = ''): GeminiError {
  if (status === 429 || /automated queries|unusual traffic/i.test(body)) return ipBlocked(where, 429);
  if (status === 401 || status === 403) return new GeminiError('upstream_unavailable', `Gemini ${where}: cookies rejected (HTTP ${status})`, 'expired', { code: 'cookies_expired' });
  // A stale build label (`bl`) after a front-end rollout: re-read /app and try once more.
  if (status === 405) return new GeminiError('upstream_unavailable', `Gemini ${where}: HTTP 405 (stale build label; the page is re-read)`, 'none', { code: 'gemini_stale_page' });
  // 400, with or without the xsrf marker: a stale access token; re-read /app and try once more.
  if (status === 400) return new GeminiError('upstream_unavailable', `Gemini ${where}: request rejected (HTTP 400${/xsrf/.test(body) ? ', xsrf' : ''}; stale access token)`, 'none', { code: 'gemini_stale_page' });
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

// The one error type that crosses stage boundaries. Protocols map `kind` to their own HTTP status
// and envelope (src/protocols/errors.ts); providers and the router only ever pick a kind.

export type GatewayErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_too_large'
  | 'unsupported_media_type'
  /** The client must switch protocols (WebSocket upgrade attempts answer 426). */
  | 'upgrade_required'
  | 'rate_limited'
  | 'upstream_overloaded'
  | 'upstream_unavailable'
  | 'timeout'
  | 'internal';

export interface GatewayErrorOptions {
  /** Seconds the client should wait (maps to Retry-After). */
  retryAfter?: number;
  /** The request field at fault, e.g. `messages[2].content`. */
  param?: string;
  /** A machine-readable code such as `invalid_api_key` or `model_not_found`. */
  code?: string;
  /** Extra details for the client (validation issues); must never hold secrets. */
  details?: unknown;
  cause?: unknown;
  /** Overrides the kind's default: false for a failure another try on the same upstream cannot fix. */
  retryable?: boolean;
}

export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly retryAfter?: number;
  readonly param?: string;
  readonly code?: string;
  readonly details?: unknown;
  private readonly retry: boolean | undefined;

  constructor(kind: GatewayErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.kind = kind;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.param !== undefined) this.param = options.param;
    if (options.code !== undefined) this.code = options.code;
    if (options.details !== undefined) this.details = options.details;
    this.retry = options.retryable;
  }

  /** Errors worth retrying on another attempt or upstream (never a client mistake). */
  get retryable(): boolean {
    if (this.retry !== undefined) return this.retry;
    return (
      this.kind === 'rate_limited' ||
      this.kind === 'upstream_overloaded' ||
      this.kind === 'upstream_unavailable' ||
      this.kind === 'timeout'
    );
  }
}

interface HttpLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Any thrown value -> GatewayError: Fastify's own errors (bad JSON, body too large, wrong content
 * type) get their kinds, so nothing reaches a client as a bare 500.
 * Unknown errors become `internal` without leaking their text.
 */
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

// The one error type that crosses stage boundaries. Protocols map `kind` to their own HTTP status
// and envelope (src/errors.ts); providers and the router only ever pick a kind.

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
}

export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly retryAfter?: number;
  readonly param?: string;
  readonly code?: string;
  readonly details?: unknown;

  constructor(kind: GatewayErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.kind = kind;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.param !== undefined) this.param = options.param;
    if (options.code !== undefined) this.code = options.code;
    if (options.details !== undefined) this.details = options.details;
  }

  /** Errors worth retrying on another attempt or upstream (never a client mistake). */
  get retryable(): boolean {
    return (
      this.kind === 'rate_limited' ||
      this.kind === 'upstream_overloaded' ||
      this.kind === 'upstream_unavailable' ||
      this.kind === 'timeout'
    );
  }
}

// Per-token rate limit (auth.rate_limit requests per minute): a token bucket per client token name.
// The map is bounded by the number of configured tokens (names, never the secret values).

import { GatewayError } from '../core/gateway-error.js';

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Take one request from `name`'s bucket or throw rate_limited with the wait in Retry-After. */
  take(name: string | undefined, perMinute: number): void {
    if (!perMinute || !name) return;
    const now = Date.now();
    const bucket = this.buckets.get(name) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) / 60_000) * perMinute);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(name, bucket);
      const retryAfter = Math.ceil(((1 - bucket.tokens) * 60) / perMinute);
      throw new GatewayError('rate_limited', `Rate limit of ${perMinute} requests per minute reached for this token`, { code: 'rate_limit_exceeded', retryAfter });
    }
    bucket.tokens -= 1;
    this.buckets.set(name, bucket);
  }
}

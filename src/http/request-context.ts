// Per-request state shared by hooks and routes: the config snapshot the request started with,
// the client protocol (for error envelopes), and what the request log line reports.

import type { FastifyRequest } from 'fastify';
import type { Access } from './auth.js';
import type { ConfigSnapshot } from '../config/store.js';
import type { CallBudget } from '../core/call-budget.js';
import type { Usage } from '../core/types.js';
import type { ClientProtocol } from '../protocols/errors.js';

export interface RequestContext {
  /** Taken once in onRequest; a config reload never changes it for this request. */
  snapshot: ConfigSnapshot;
  protocol: ClientProtocol;
  access: Access;
  tokenName?: string;
  model?: string;
  provider?: string;
  /** Set when a fallback served the request with another model than the one asked for. */
  upstreamModel?: string;
  stream?: boolean;
  /** performance.now() when the first body byte went to the client (streams). */
  firstByteAt?: number;
  usage?: Usage;
  /** The account that answered (Gemini), for usage per account. */
  account?: string;
  /** The failure's kind (a GatewayError kind), also for one that happened mid-stream. */
  errorKind?: string;
  /** Upstream calls this request made (retries, fallbacks, account failover, re-asks). */
  budget?: CallBudget;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyInstance {
    gatewayRoutes: Array<{ method: string; url: string; access: string }>;
  }
  interface FastifyContextConfig {
    /** Who may call the route; default: `admin` under /admin, else `client`. */
    access?: Access;
    /** Error envelope for the route; `auto` = Anthropic when `anthropic-version` is sent. */
    protocol?: ClientProtocol | 'auto';
  }
}

/** Anthropic routes by path; `auto` routes (model lists) by the `anthropic-version` header. */
export function protocolFor(request: Pick<FastifyRequest, 'url' | 'headers'>, declared?: ClientProtocol | 'auto'): ClientProtocol {
  if (declared === 'openai' || declared === 'anthropic') return declared;
  const url = request.url;
  if (url.startsWith('/v1/messages') || url.startsWith('/v1/claude/')) return 'anthropic';
  if (declared === 'auto' && request.headers['anthropic-version'] !== undefined) return 'anthropic';
  return 'openai';
}

export function accessFor(url: string, declared?: Access): Access {
  if (declared) return declared;
  return url === '/admin' || url.startsWith('/admin/') || url.startsWith('/admin?') ? 'admin' : 'client';
}

/** Whether the request's logger writes `level`: build costly log fields only then. */
export function logsAt(request: FastifyRequest, level: 'trace' | 'debug' | 'info'): boolean {
  return (request.log as FastifyRequest['log'] & { isLevelEnabled(level: string): boolean }).isLevelEnabled(level);
}

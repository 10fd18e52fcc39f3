// GET /admin/usage?minutes=60 (1 to 1440): the per-minute usage report behind the console's
// overview (admin/usage.ts). Each finished client request is counted from the onResponse hook
// through `observe`, which app.ts calls next to the request log line.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { capability, type ProviderRegistry } from '../core/provider.js';
import type { SharedState } from '../state/shared-state.js';
import { KEEP_MINUTES, MINUTE_MS, UsageAggregator, type AccountSample } from './usage.js';

export type ObserveRequest = (request: FastifyRequest, reply: FastifyReply) => void;

export function registerUsageRoutes(app: FastifyInstance, state: SharedState, providers: ProviderRegistry): ObserveRequest {
  const accounts = (): AccountSample[] =>
    (capability(providers, 'cookieAccounts')?.status() ?? []).map((a) => ({
      name: String(a.name),
      state: String(a.state ?? 'unknown'),
      reason: typeof a.last_error === 'string' ? a.last_error : null,
      until: typeof a.until === 'string' ? a.until : null,
    }));
  // 24 h of minute hashes (and a few minutes' slack for the minute being written).
  const usage = new UsageAggregator(state.hashes('usage', KEEP_MINUTES + 5, (KEEP_MINUTES + 5) * MINUTE_MS), { backend: state.backend, accounts });
  app.addHook('onClose', async () => usage.close());

  app.get<{ Querystring: { minutes?: string } }>('/admin/usage', async (request) => {
    const minutes = Number(request.query.minutes ?? 60);
    return usage.report(Number.isFinite(minutes) && minutes > 0 ? minutes : 60);
  });

  return (request, reply) => {
    const ctx = request.ctx;
    if (!ctx || ctx.access === 'public' || request.url.startsWith('/admin')) return;
    const status = reply.statusCode;
    const started = performance.now() - reply.elapsedTime;
    usage.record({
      at: Date.now(),
      model: ctx.model ?? null,
      upstream: ctx.provider ?? null,
      account: ctx.account ?? null,
      // Every error answer goes through sendError or the stream's failure path, which set the kind;
      // what is left (Fastify's own 503 while closing) is counted by its class.
      errorKind: ctx.errorKind ?? (status >= 500 ? 'internal' : status >= 400 ? 'invalid_request' : null),
      durationMs: reply.elapsedTime,
      ttfbMs: ctx.firstByteAt !== undefined ? ctx.firstByteAt - started : null,
      inputTokens: ctx.usage?.inputTokens ?? 0,
      outputTokens: ctx.usage?.outputTokens ?? 0,
    });
  };
}

// GET /metrics (Prometheus text; admin token unless metrics.public) and GET /admin/requests (the
// ring of recent requests: no bodies, no secrets).

import type { FastifyInstance } from 'fastify';
import { authenticate } from '../http/auth.js';
import { METRICS_CONTENT_TYPE, metrics, renderMetrics, type RequestRing } from '../metrics.js';
import { capability, type ProviderRegistry } from '../core/provider.js';

const STATES = ['ok', 'cooling', 'blocked', 'expired', 'no_cookies', 'ip_blocked', 'guest'];

export function registerMetricsRoutes(app: FastifyInstance, providers: ProviderRegistry, ring: RequestRing): void {
  app.get('/metrics', { config: { access: 'public' } }, async (request, reply) => {
    if (!request.ctx.snapshot.config.metrics.public) authenticate('admin', request.headers, request.ctx.snapshot.config.auth);
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const account of capability(providers, 'cookieAccounts')?.status() ?? []) counts[String(account.state)]! += 1;
    for (const state of STATES) metrics.accounts.set({ state }, counts[state]!);
    return reply.type(METRICS_CONTENT_TYPE).send(await renderMetrics());
  });

  app.get<{ Querystring: { limit?: string } }>('/admin/requests', async (request) => {
    const limit = Math.max(1, Math.min(ring.capacity, Number(request.query.limit ?? ring.capacity) || ring.capacity));
    return { requests: ring.list(limit) };
  });
}

// Liveness and readiness. Both are public and reveal nothing secret: states, never values.

import type { FastifyInstance } from 'fastify';
import type { ProviderRegistry } from '../core/provider.js';
import { ReadinessProbe } from './readiness.js';

const startedAt = Date.now();

export function registerHealthRoutes(app: FastifyInstance, providers: ProviderRegistry): void {
  app.get('/health', { config: { access: 'public' } }, async () => ({
    status: 'ok',
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
  }));

  // Ready = at least one upstream can take a request now (orchestrators route traffic by it); HTTP
  // upstreams are probed for real (readiness.ts).
  const probe = new ReadinessProbe();
  app.get('/ready', { config: { access: 'public' } }, async (_request, reply) => {
    const upstreams = await Promise.all(
      providers.list().map(async (p) => {
        const health = await probe.health(p);
        return { id: p.id, state: health.state, usable: health.usable, ...(health.accounts ? { accounts: health.accounts } : {}) };
      }),
    );
    const ready = upstreams.some((u) => u.usable);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', upstreams });
  });
}

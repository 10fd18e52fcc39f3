// GET /admin/routes: the resolved routing table for operators (the console's "Models and routes"):
// listable models with their upstream, aliases with where they land, provider globs, fallbacks,
// the default model, and each upstream's health.

import type { FastifyInstance } from 'fastify';
import type { ProviderRegistry } from '../core/provider.js';
import { modelSources, type Router } from '../pipeline/router.js';
import { isGlob } from '../core/glob.js';

export function registerRoutingTable(app: FastifyInstance, router: Router, providers: ProviderRegistry): void {
  app.get('/admin/routes', async (request) => {
    const config = request.ctx.snapshot.config;
    const resolve = (model: string) => {
      try {
        const route = router.plan(model, config)[0]!;
        return { provider: route.provider.id, model: route.upstreamModel, via: route.via };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    return {
      models: router.listModels(config).map((m) => ({ id: m.id, provider: m.provider })),
      aliases: Object.entries(config.routing.aliases).map(([pattern, target]) => ({ pattern, target, resolves_to: isGlob(target) ? null : resolve(target) })),
      globs: modelSources(config).flatMap((s) => s.models.filter(isGlob).map((pattern) => ({ pattern, provider: s.id }))),
      fallbacks: Object.entries(config.routing.fallbacks).map(([pattern, models]) => ({ pattern, models })),
      default_model: config.routing.default_model ?? null,
      upstreams: providers.list().map((p) => ({ id: p.id, native_tools: p.capabilities.nativeTools, ...p.health() })),
    };
  });
}

// GET /v1/models (OpenAI list shape, or Anthropic's when `anthropic-version` is sent) and
// GET /v1/claude/models (always Anthropic's shape).

import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/schema.js';
import type { ModelInfo } from '../core/types.js';

// Model lists need a creation time; ours are not versioned, so report a fixed, plausible one.
const CREATED_AT = Date.UTC(2025, 0, 1) / 1000;

export function openAIModelList(models: ModelInfo[]) {
  return {
    object: 'list',
    data: models.map((m) => ({ id: m.id, object: 'model', created: m.createdAt ?? CREATED_AT, owned_by: m.provider })),
  };
}

export function anthropicModelList(models: ModelInfo[]) {
  const data = models.map((m) => ({
    type: 'model',
    id: m.id,
    display_name: m.displayName ?? m.id,
    created_at: new Date((m.createdAt ?? CREATED_AT) * 1000).toISOString(),
  }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/** `listModels`: every name a client may ask for under this config (the router's list). */
export function registerModelRoutes(app: FastifyInstance, listModels: (config: GatewayConfig) => ModelInfo[]): void {
  app.get('/v1/models', { config: { protocol: 'auto' } }, async (request) => {
    const models = listModels(request.ctx.snapshot.config);
    return request.ctx.protocol === 'anthropic' ? anthropicModelList(models) : openAIModelList(models);
  });
  app.get('/v1/claude/models', { config: { protocol: 'anthropic' } }, async (request) =>
    anthropicModelList(listModels(request.ctx.snapshot.config)),
  );
}

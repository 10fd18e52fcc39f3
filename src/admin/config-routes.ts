// Admin endpoints for config and logging (config store, log manager), and the g4f provider list
// (through the upstream-query capability). Errors use the OpenAI envelope, like every
// non-Anthropic route.

import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { maskedConfig } from '../config/mask.js';
import { normalizeLogLevel } from '../config/schema.js';
import { formatIssues } from '../config/load.js';
import { reloadConfig } from '../config/reload.js';
import type { ConfigStore } from '../config/store.js';
import { GatewayError } from '../core/gateway-error.js';
import type { LogManager } from '../logging/log-manager.js';
import { capability, type ProviderRegistry } from '../core/provider.js';

interface AdminServices {
  store: ConfigStore;
  logs: LogManager;
  providers: ProviderRegistry;
}

const loggingBody = z.strictObject({
  level: z.string(),
  ttl_seconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
});

export function registerAdminRoutes(app: FastifyInstance, { store, logs, providers }: AdminServices): void {
  app.get('/admin/config', async (request) => {
    const snapshot = request.ctx.snapshot;
    return {
      version: snapshot.version,
      loaded_at: snapshot.loadedAt.toISOString(),
      source: snapshot.source,
      file: store.file,
      last_reload: store.last,
      config: maskedConfig(snapshot.config),
    };
  });

  app.post('/admin/config/reload', async (request, reply) => {
    const result = await reloadConfig(store, request.log, 'admin');
    if (!result.ok) {
      throw new GatewayError('invalid_request', `Config is invalid; the running config was kept. ${formatIssues(result.issues)}`, {
        code: 'invalid_config',
        details: result.issues,
      });
    }
    return reply.send({ status: 'reloaded', version: result.version, changed: result.changed, restart_required: result.restartRequired });
  });

  app.get('/admin/logging', async () => logs.status());

  // The g4f server's provider list, for choosing `g4f.provider_pinning` entries.
  app.get('/admin/g4f/providers', async () => {
    const g4f = capability(providers, 'upstreamQuery', 'g4f');
    if (!g4f) throw new GatewayError('not_found', 'g4f is not enabled', { code: 'g4f_disabled' });
    return g4f.getJson('/providers');
  });

  app.post('/admin/logging', async (request) => {
    // The design's call is `POST /admin/logging?level=DEBUG` (query, no body); the JSON body works too.
    const parsed = loggingBody.safeParse(request.body ?? loggingQuery(request.query));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.join('.') || undefined;
      throw new GatewayError('invalid_request', `${param ? `${param}: ` : ''}${issue.message}`, param ? { param } : {});
    }
    const level = normalizeLogLevel(parsed.data.level);
    if (!level) throw new GatewayError('invalid_request', `level: unknown level "${parsed.data.level}"`, { param: 'level' });
    logs.setOverride(level, parsed.data.ttl_seconds);
    request.log.warn({ level, ttl_seconds: parsed.data.ttl_seconds ?? null }, 'log level switched by admin');
    return { status: 'success', ...logs.status() };
  });

  // End an override: back to the configured level.
  app.delete('/admin/logging', async (request) => {
    logs.resetOverride();
    request.log.warn({ level: logs.logger.level }, 'log level override cleared by admin');
    return logs.status();
  });
}

function loggingQuery(query: unknown): Record<string, unknown> {
  const { level, ttl_seconds: ttl } = (query ?? {}) as Record<string, string | undefined>;
  return { ...(level !== undefined && { level }), ...(ttl !== undefined && { ttl_seconds: Number(ttl) }) };
}

// Builds the Fastify app from the running services without listening (tests use it with
// inject() or listen on port 0). Hooks: request context + auth on every request, one INFO log
// line per request, and every error mapped to the client's protocol envelope.

import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerAdminRoutes } from './admin/config-routes.js';
import { authenticate } from './http/auth.js';
import type { ConfigStore } from './config/store.js';
import { GatewayError, toGatewayError } from './core/gateway-error.js';
import { errorReply } from './protocols/errors.js';
import { trackInflight } from './http/lifecycle.js';
import type { LogManager } from './logging/log-manager.js';
import { answerBeforeBody } from './http/early-answer.js';
import { lazySchemaCompilers } from './http/schema-compilers.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerAnthropicRoutes } from './protocols/anthropic/route.js';
import { registerModelRoutes } from './protocols/models.js';
import { registerChatRoutes } from './protocols/openai-chat/route.js';
import { registerResponsesRoutes } from './protocols/openai-responses/route.js';
import { registerImagesRoutes } from './protocols/openai-images/route.js';
import type { ProviderRegistry } from './core/provider.js';
import { ConfiguredProviders } from './providers/registry.js';
import { WebhookAlerts } from './net/webhook-alerts.js';
import type { SecretRegistry } from './secrets.js';
import { registerCookieRoutes } from './admin/cookie-routes.js';
import { registerImageRoutes } from './http/image-routes.js';
import { metrics, RequestRing } from './metrics.js';
import { registerMetricsRoutes } from './admin/metrics-routes.js';
import { registerRoutingTable } from './admin/routing-table.js';
import { registerConsole } from './admin/console.js';
import { lazyChildLoggerFactory } from './logging/lazy-child.js';
import { registerUsageRoutes } from './admin/usage-routes.js';
import { registerLogStream } from './admin/log-stream.js';
import { accessFor, logsAt, protocolFor } from './http/request-context.js';
import { RateLimiter } from './http/rate-limit.js';
import { Router } from './pipeline/router.js';
import { serveChat } from './pipeline/serve.js';
import type { ServeChat } from './protocols/encoder.js';
import { SharedState } from './state/shared-state.js';
import type { Message } from './core/types.js';

const REQ_PREFIX = `${randomBytes(3).toString('hex')}-`;
let requestCounter = 0;

export interface GatewayServices {
  store: ConfigStore;
  logs: LogManager;
  providers?: ProviderRegistry;
  /** Where conversations and stored Responses live (in memory, or Redis shared by replicas). */
  state?: SharedState;
  /** Secret values to scrub from logs (cookies of Gemini accounts join the config's tokens). */
  secrets?: SecretRegistry;
}

export async function buildApp(services: GatewayServices): Promise<FastifyInstance> {
  const { store, logs } = services;
  const state = services.state ?? SharedState.memory();
  const alerts = new WebhookAlerts(() => store.current().config.alerts.webhook_url, logs.module('alerts'));
  const providers = services.providers ?? await ConfiguredProviders.create(store, { log: logs.module('providers'), state, alerts, ...(services.secrets ? { secrets: services.secrets } : {}) });
  const startup = store.current().config;

  const app = Fastify({
    // pino's Logger type is wider than Fastify's; narrowing keeps the app's default generics.
    loggerInstance: logs.logger as FastifyBaseLogger,
    // We write our own one-line request log in onResponse (see logRequest).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'req_id' }),
    // Request loggers write through this one with req_id first: no pino child per request (logging/lazy-child.ts).
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: startup.server.body_limit,
    // Request ids only need to be unique in this process's logs: a random prefix and a counter.
    genReqId: () => `${REQ_PREFIX}${(++requestCounter).toString(36)}`,
    // Signed image links carry their URL in the path.
    routerOptions: { maxParamLength: 4096 },
    // Fastify answers 503 to requests arriving while it drains on shutdown.
    return503OnClosing: true,
    // ajv and fast-json-stringify only if a route has a schema (none does): start-up time.
    schemaController: { compilersFactory: lazySchemaCompilers() as never },
  });

  app.decorateRequest('ctx', undefined as never);
  // Every route's method, path and access class, for audits (a test checks no route is open).
  const routes: Array<{ method: string; url: string; access: string }> = [];
  app.decorate('gatewayRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, access: accessFor(route.url, route.config?.access) });
  });
  const limiter = new RateLimiter();
  // Upstream sockets close after the server has drained (in-flight streams finish first).
  app.addHook('onClose', async () => providers.close?.());
  trackInflight(app);

  // The per-request hooks take callbacks: an async hook costs a promise and a microtask each.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      const declared = request.routeOptions.config;
      request.ctx = {
        snapshot: store.current(),
        protocol: protocolFor(request, declared?.protocol),
        access: accessFor(request.url, declared?.access),
      };
      request.ctx.tokenName = authenticate(request.ctx.access, request.headers, request.ctx.snapshot.config.auth, request.raw.socket).tokenName;
      if (request.ctx.access === 'client') limiter.take(request.ctx.tokenName, request.ctx.snapshot.config.auth.rate_limit);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete) answerBeforeBody(request, reply); // the client may still be sending
    if (isStream(payload) && request.ctx) markFirstByte(request, reply);
    done(null, payload);
  });

  const ring = new RequestRing(200);
  const observeUsage = registerUsageRoutes(app, state, providers);
  app.addHook('onResponse', (request, reply, done) => {
    try {
      logRequest(request, reply, ring);
      observeUsage(request, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const gatewayError = toGatewayError(error);
    if (gatewayError.kind === 'internal') request.log.error({ err: error }, 'unhandled error');
    else request.log.debug({ kind: gatewayError.kind, err: gatewayError.message }, 'request rejected');
    return sendError(request, reply, gatewayError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new GatewayError('not_found', `Unknown route: ${request.method} ${request.url.split('?')[0]}`, {
      code: 'unknown_route',
    })),
  );

  registerHealthRoutes(app, providers);
  const router = new Router(providers);
  // The model's own words for emulated tool calls, kept like conversations (Redis when configured).
  const serveOptions = { router, ownWords: state.store<string>('tool-replay', 5000, 2 * 60 * 60 * 1000) };
  const serve: ServeChat = (request, reply, chat, adapter) => serveChat(request, reply, chat, adapter, serveOptions);
  registerModelRoutes(app, (config) => router.listModels(config));
  registerAnthropicRoutes(app, serve);
  registerChatRoutes(app, serve);
  registerResponsesRoutes(app, serve, state.store<Message[]>('responses', 256, 60 * 60 * 1000));
  registerAdminRoutes(app, { store, logs, providers });
  registerCookieRoutes(app, providers);
  registerMetricsRoutes(app, providers, ring);
  registerRoutingTable(app, router, providers);
  registerConsole(app);
  registerLogStream(app, logs);
  registerImageRoutes(app, providers);
  registerImagesRoutes(app, providers, (model, config) => router.plan(model, config));
  return app;
}

/** Reply with the error in the protocol the request speaks (unknown routes: OpenAI's). */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  const protocol = request.ctx?.protocol ?? protocolFor(request);
  if (request.ctx) request.ctx.errorKind = error.kind;
  const out = errorReply(protocol, error);
  return reply.code(out.status).headers(out.headers).send(out.body);
}

function isStream(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && typeof (payload as { pipe?: unknown }).pipe === 'function';
}

/**
 * Time to first byte of a streamed body: wrap the socket write once, and unwrap on the first
 * call, so the chunks after it pay nothing.
 */
function markFirstByte(request: FastifyRequest, reply: FastifyReply): void {
  const raw = reply.raw;
  const write = raw.write;
  request.ctx.stream = true;
  raw.write = function firstWrite(this: typeof raw, ...args: Parameters<typeof write>) {
    request.ctx.firstByteAt = performance.now();
    raw.write = write;
    return write.apply(this, args);
  } as typeof write;
}

function logRequest(request: FastifyRequest, reply: FastifyReply, ring: RequestRing): void {
  const ctx = request.ctx;
  const durationMs = Math.round(reply.elapsedTime * 10) / 10;
  const query = request.url.indexOf('?');
  const path = query === -1 ? request.url : request.url.slice(0, query);
  const ttfbMs = ctx?.firstByteAt !== undefined ? Math.round((ctx.firstByteAt - (performance.now() - reply.elapsedTime)) * 10) / 10 : undefined;
  // Probes from Docker / orchestrators every few seconds would drown the INFO log.
  const level = ctx?.access === 'public' ? 'debug' : 'info';
  if (logsAt(request, level)) {
    const fields: Record<string, unknown> = {
      method: request.method,
      path,
      status: reply.statusCode,
      duration_ms: durationMs,
    };
    if (ctx?.model) fields.model = ctx.model;
    if (ctx?.provider) fields.provider = ctx.provider;
    if (ctx?.upstreamModel) fields.upstream_model = ctx.upstreamModel;
    if (ctx?.stream) fields.stream = true;
    if (ttfbMs !== undefined) fields.ttfb_ms = ttfbMs;
    if (ctx?.usage) fields.tokens = { input: ctx.usage.inputTokens, output: ctx.usage.outputTokens };
    if (ctx?.budget) fields.upstream_calls = ctx.budget.used;
    if (ctx?.tokenName && ctx.tokenName !== 'public') fields.client = ctx.tokenName;
    request.log[level](fields, `${request.method} ${path} | ${ctx?.model ?? '-'} | ${reply.statusCode} | ${(durationMs / 1000).toFixed(3)}s`);
  }

  const route = request.routeOptions.url ?? 'unmatched';
  metrics.requests.inc({ route, model: ctx?.model ?? '', provider: ctx?.provider ?? '', status: String(reply.statusCode) });
  metrics.latency.observe({ route }, durationMs / 1000);
  if (ttfbMs !== undefined) metrics.ttfb.observe({ route }, ttfbMs / 1000);
  if (ctx && ctx.access !== 'public' && !path.startsWith('/admin')) {
    ring.push({
      time: Date.now() - reply.elapsedTime,
      protocol: ctx.protocol === 'anthropic' ? 'anthropic' : path.includes('/responses') ? 'openai-responses' : path.includes('/chat/') ? 'openai-chat' : 'openai',
      method: request.method,
      path,
      model: ctx.model ?? null,
      provider: ctx.provider ?? null,
      status: reply.statusCode,
      stream: ctx.stream === true,
      duration_ms: durationMs,
      ttfb_ms: ttfbMs ?? null,
      tokens: ctx.usage ? { input: ctx.usage.inputTokens, output: ctx.usage.outputTokens } : null,
      client: ctx.tokenName && ctx.tokenName !== 'public' ? ctx.tokenName : null,
    });
  }
}

// The shared serving pipeline: route -> provider stream -> protocol encoder. One code path for
// all three protocols. Streaming rules:
// - The HTTP status is decided by the first event: a failure before any output is a normal HTTP
//   error in the client's protocol; after that, failures are in-stream error events.
// - If the upstream stays silent, the stream is committed anyway after `commitAfterMs` and kept
//   alive with pings (Claude Code hangs forever on an idle stream).
// - A client that goes away aborts the upstream at once.

import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collect } from '../core/collect.js';
import { GatewayError } from '../core/gateway-error.js';
import { countRequestTokens, countTextTokens, estimateTokens } from '../core/tokens.js';
import type { ChatEvent, ChatRequest, Usage } from '../core/types.js';
import { toGatewayError } from '../protocols/errors.js';
import { metrics } from '../metrics.js';
import { streamWithFallback, type RetryPolicy } from './fallback.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Route, Router } from './router.js';
import { globMatch } from '../core/glob.js';
import { emulateTools } from '../tools/emulate.js';
import type { ProtocolAdapter, ResponseMeta, StreamEncoder } from '../protocols/encoder.js';

export interface ServeOptions {
  router: Router;
}

export async function serveChat(
  request: FastifyRequest,
  reply: FastifyReply,
  chat: ChatRequest,
  adapter: ProtocolAdapter,
  options: ServeOptions,
): Promise<FastifyReply> {
  const config = request.ctx.snapshot.config;
  const routes = options.router.plan(chat.model, config);
  request.ctx.model = chat.model;
  request.ctx.provider = routes[0]!.provider.id;
  request.ctx.stream = chat.stream;
  request.log.debug({ model: chat.model, routes: routes.map((r) => `${r.provider.id}:${r.upstreamModel} (${r.via})`) }, 'routes planned');

  const meta: ResponseMeta = { id: adapter.newId(), model: chat.model, created: Math.floor(Date.now() / 1000) };
  // message_start needs a number before the upstream reports usage: a cheap estimate here (the BPE
  // tokenizer costs ~60 MB and milliseconds); the final count goes out with message_delta.
  if (adapter.inputTokensUpfront) meta.inputTokens = estimateTokens(chat);

  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new GatewayError('invalid_request', 'client disconnected'));
  });
  const events = streamWithFallback(routes, chat, {
    signal: controller.signal,
    log: request.log,
    requestId: request.id,
    origin: originOf(request),
    policy: (route) => retryPolicy(config, route.provider.id),
    open: (route, chat, callContext) =>
      needsToolEmulation(config, route) ? emulateTools(route.provider, chat, callContext) : route.provider.stream(chat, callContext),
    onServed: (route, attempts) => {
      request.ctx.provider = route.provider.id;
      if (attempts > 1 || route.via === 'fallback') request.ctx.upstreamModel = route.upstreamModel;
    },
  });
  const usage = new UsageTracker(chat);

  if (!chat.stream) {
    const result = await collect(events, (event) => usage.see(event));
    result.usage = await usage.final();
    request.ctx.usage = result.usage;
    return reply.send(adapter.encodeResult(result, meta, chat));
  }

  const iterator = events[Symbol.asyncIterator]();
  const pending = nextSeen(iterator, usage);
  const server = request.ctx.snapshot.config.server;
  const first = await firstOrTimeout(pending, server.sse_commit_after * 1000);
  if (first !== TIMEOUT && !first.done && first.value.type === 'error') throw first.value.error;
  // (first events the tracker consumed, such as a leading usage event, were skipped by nextSeen)

  const encoder = adapter.createEncoder(meta, chat);
  const body = new SseBody();
  void pump(body, encoder, iterator, first === TIMEOUT ? pending : Promise.resolve(first), usage, request, server.sse_ping_interval * 1000, controller.signal);
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no')
    .send(body);
}

/** The config section of an OpenAI-compatible upstream (`g4f`, or `openai_compatible[]` by name). */
function upstreamConfig(config: GatewayConfig, id: string): GatewayConfig['openai_compatible'][number] | GatewayConfig['g4f'] | undefined {
  return id === 'g4f' ? config.g4f : config.openai_compatible.find((u) => u.name === id);
}

/** Upstreams without native tool calling, and models configured as text-only, get emulated tools. */
function needsToolEmulation(config: GatewayConfig, route: Route): boolean {
  if (!route.provider.capabilities.nativeTools) return true;
  const textOnly = upstreamConfig(config, route.provider.id)?.text_only_models ?? [];
  return textOnly.some((pattern) => globMatch(pattern, route.upstreamModel));
}

/** Retry and fallback settings of an upstream (`g4f.fallback`, `openai_compatible[].fallback`). Gemini
 * fails over between its accounts itself; the default one more try covers its transient 1013s. */
function retryPolicy(config: GatewayConfig, providerId: string): RetryPolicy {
  const settings = upstreamConfig(config, providerId)?.fallback;
  return settings ? { enabled: settings.enabled, maxRetries: settings.max_retries } : { enabled: true, maxRetries: 1 };
}

/** The origin the client used to reach us (links in answers must work from the client's side). */
function originOf(request: FastifyRequest): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const protocol = typeof forwarded === 'string' && forwarded ? forwarded.split(',')[0]!.trim() : request.protocol;
  return `${protocol}://${request.headers['x-forwarded-host'] ?? request.host}`;
}

const TIMEOUT = Symbol('timeout');

async function firstOrTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(resolve, ms, TIMEOUT)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A readable SSE body the pump pushes into; waits for demand so a slow client is not buffered without bound. */
class SseBody extends Readable {
  private wake: (() => void) | undefined;
  private waiting: Promise<void> | undefined;
  lastPushAt = performance.now();

  constructor() {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A client that left must not leave the pump waiting for demand that never comes.
    this._read();
    callback(error);
  }

  /** True while the client has not read what is queued: no keep-alive is needed (or useful) then. */
  get backedUp(): boolean {
    return this.waiting !== undefined;
  }

  /** Resolves once the client wants more. Every writer (the pump and the pinger) shares one wait, so
   * a ping pushed while the pump waits cannot take its wake-up. */
  write(chunk: string): Promise<void> | undefined {
    if (!chunk || this.destroyed) return undefined;
    this.lastPushAt = performance.now();
    if (this.push(chunk)) return undefined;
    return (this.waiting ??= new Promise<void>((resolve) => {
      this.wake = () => {
        this.waiting = undefined;
        resolve();
      };
    }));
  }
}

/** The next event the usage tracker lets through (no extra async generator per event). */
async function nextSeen(iterator: AsyncIterator<ChatEvent>, usage: UsageTracker): Promise<IteratorResult<ChatEvent>> {
  for (;;) {
    const step = await iterator.next();
    if (step.done || usage.see(step.value)) return step;
  }
}

/**
 * One timer for every open stream: a stream whose last write is older than its ping interval gets
 * a keep-alive. (A timer per stream costs more than the streams themselves at high concurrency.)
 */
class Pinger {
  private readonly streams = new Set<{ body: SseBody; ping: () => string; everyMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private tickMs = 1000;

  add(stream: { body: SseBody; ping: () => string; everyMs: number }): void {
    this.streams.add(stream);
    const tick = Math.max(50, Math.floor(stream.everyMs / 2));
    if (!this.timer || tick < this.tickMs) this.restart(Math.min(tick, this.tickMs));
  }

  delete(stream: { body: SseBody; ping: () => string; everyMs: number }): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.tickMs = 1000;
    }
  }

  private restart(tickMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.tickMs = tickMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const s of this.streams) if (now - s.body.lastPushAt >= s.everyMs && !s.body.backedUp) void s.body.write(s.ping());
    }, tickMs);
    this.timer.unref();
  }
}

const pinger = new Pinger();

async function pump(
  body: SseBody,
  encoder: StreamEncoder,
  iterator: AsyncIterator<ChatEvent>,
  first: Promise<IteratorResult<ChatEvent>>,
  usage: UsageTracker,
  request: FastifyRequest,
  pingEveryMs: number,
  signal: AbortSignal,
): Promise<void> {
  metrics.inflightStreams.inc();
  const keepAlive = { body, ping: () => encoder.ping(), everyMs: pingEveryMs };
  pinger.add(keepAlive);
  try {
    await body.write(encoder.start());
    let next = first;
    for (;;) {
      const step = await next;
      if (step.done || signal.aborted) break;
      const event = step.value;
      if (event.type === 'error') {
        await body.write(encoder.fail(event.error));
        request.log.warn({ kind: event.error.kind, err: event.error.message }, 'upstream failed mid-stream');
        return;
      }
      const waiting = body.write(encoder.event(event));
      if (waiting) await waiting;
      if (signal.aborted) return;
      next = nextSeen(iterator, usage);
    }
    if (signal.aborted) return;
    const final = await usage.final();
    request.ctx.usage = final;
    await body.write(encoder.event({ type: 'usage', usage: final }));
    await body.write(encoder.end());
  } catch (error) {
    if (signal.aborted) return;
    const failure = toGatewayError(error);
    request.log.warn({ kind: failure.kind, err: failure.message }, 'upstream failed mid-stream');
    await body.write(encoder.fail(failure));
  } finally {
    metrics.inflightStreams.dec();
    pinger.delete(keepAlive);
    if (signal.aborted) void iterator.return?.();
    if (!body.destroyed) body.push(null);
  }
}

/**
 * Watches the event stream for usage; when the upstream reports none, estimates it with the
 * local tokenizer (input from the request, output from the text that was produced).
 */
class UsageTracker {
  private reported: Usage | undefined;
  private readonly output: string[] = [];

  constructor(private readonly chat: ChatRequest) {}

  /** Note one event; false for events the pipeline consumes here (usage, re-emitted at the end). */
  see(event: ChatEvent): boolean {
    switch (event.type) {
      case 'usage':
        this.reported = event.usage;
        return false;
      case 'text-delta':
      case 'thinking-delta':
        this.output.push(event.text);
        return true;
      case 'tool-call-delta':
        this.output.push(event.argumentsDelta);
        return true;
      case 'tool-call-start':
        this.output.push(event.name);
        return true;
      default:
        return true;
    }
  }

  async final(): Promise<Usage> {
    const reported = this.reported;
    const inputTokens = reported?.inputTokens || (await countRequestTokens(this.chat));
    const outputTokens = reported?.outputTokens || (await countTextTokens(this.output.join('')));
    return { ...reported, inputTokens, outputTokens };
  }
}

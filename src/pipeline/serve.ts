// The serving pipeline: route -> provider stream -> protocol encoder. One code path for all three
// protocols. Streaming rules:
// - The HTTP status is decided by the first event: a failure before any output is a normal HTTP
//   error in the client's protocol; after that, failures are in-stream error events.
// - If the upstream stays silent, the stream is committed anyway after `sse_commit_after` and kept
//   alive with pings (Claude Code hangs forever on an idle stream).
// - A client that goes away aborts the upstream at once.
// - Every stream ends with exactly one finish and one usage (core/event-contract.ts, usage.ts).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { CallBudget } from '../core/call-budget.js';
import { RequestAbort } from '../core/call-signal.js';
import { Collector } from '../core/collect.js';
import { batchesOf } from '../core/event-batches.js';
import { EventContract } from '../core/event-contract.js';
import { GatewayError } from '../core/gateway-error.js';
import { estimateTokens } from '../core/tokens.js';
import type { ChatRequest } from '../core/types.js';
import { logsAt } from '../http/request-context.js';
import type { ProtocolAdapter, ResponseMeta } from '../protocols/encoder.js';
import { emulateTools, type OwnWords } from '../tools/emulate.js';
import { EventFeed } from './event-feed.js';
import { openRoute, openWithFallback } from './fallback.js';
import type { Router } from './router.js';
import { SseBody } from './sse-body.js';
import { pump, type StreamState } from './stream-reply.js';
import { UsageTracker } from './usage.js';

export interface ServeOptions {
  router: Router;
  /** The model's own words for emulated tool calls (tools/emulate.ts), shared like conversations. */
  ownWords: OwnWords;
}

export async function serveChat(
  request: FastifyRequest,
  reply: FastifyReply,
  chat: ChatRequest,
  adapter: ProtocolAdapter,
  options: ServeOptions,
): Promise<FastifyReply> {
  const config = request.ctx.snapshot.config;
  const routes = options.router.plan(chat.model, config, { webSearch: chat.webSearch !== undefined });
  request.ctx.model = chat.model;
  request.ctx.provider = routes[0]!.provider.id;
  request.ctx.stream = chat.stream;
  // The list is built only when it will be logged: this runs once per request.
  if (logsAt(request, 'debug')) request.log.debug({ model: chat.model, routes: routes.map((r) => `${r.provider.id}:${r.upstreamModel} (${r.via})`) }, 'routes planned');

  const meta: ResponseMeta = { id: adapter.newId(), model: chat.model, created: Math.floor(Date.now() / 1000) };
  // message_start needs a number before the upstream reports usage: a cheap estimate here (the BPE
  // tokenizer costs ~60 MB and milliseconds); the final count goes out with message_delta.
  if (adapter.inputTokensUpfront) meta.inputTokens = estimateTokens(chat);

  // Not an AbortController: Node 20's AbortSignal is costly to build (core/call-signal.ts).
  const abort = new RequestAbort();
  // `on`, not `once`: a response closes once, and `once` wraps every listener per request.
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new GatewayError('invalid_request', 'client disconnected'));
  });
  const budget = new CallBudget(config.routing.max_upstream_calls);
  request.ctx.budget = budget;
  const opened = openWithFallback(routes, chat, {
    signal: abort,
    log: request.log,
    requestId: request.id,
    origin: originOf(request),
    budget,
    servedBy: (account) => (request.ctx.account = account),
    open: (route, chat, callContext) => (route.emulateTools ? batchesOf(emulateTools(route.provider, chat, callContext, options.ownWords)) : openRoute(route, chat, callContext)),
    onServed: (route, attempts) => {
      request.ctx.provider = route.provider.id;
      if (attempts > 1 || route.via === 'fallback') request.ctx.upstreamModel = route.upstreamModel;
    },
  });
  const usage = new UsageTracker(chat);
  const contract = new EventContract();
  const feed = new EventFeed(opened, (event) => usage.see(event) && contract.see(event));

  if (!chat.stream) {
    const collector = new Collector();
    for (let batch = await feed.next(); batch; batch = await feed.next()) for (const event of batch) collector.add(event);
    const result = collector.result(contract.finish());
    result.usage = await usage.final();
    request.ctx.usage = result.usage;
    return reply.send(adapter.encodeResult(result, meta, chat));
  }

  // The first events (or sse_commit_after) decide between an HTTP error and a committed stream.
  const pending = feed.next();
  const server = config.server;
  const first = await firstOrTimeout(pending, server.sse_commit_after * 1000);
  if (first !== TIMEOUT && first?.[0]?.type === 'error') throw first[0].error;

  const encoder = adapter.createEncoder(meta, chat);
  // Written by us, straight to the socket: Fastify steps aside (its onResponse hooks still run).
  reply.hijack();
  request.ctx.stream = true;
  const body = new SseBody(reply.raw, { ...reply.getHeaders(), ...SSE_HEADERS } as Record<string, string>, () => (request.ctx.firstByteAt = performance.now()));
  const stream: StreamState = { feed, usage, contract };
  void pump(body, encoder, first === TIMEOUT ? pending : first, stream, request, server.sse_ping_interval * 1000, abort);
  return reply;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

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

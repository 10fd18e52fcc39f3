// Tries the routes of a plan until one produces its first event. Retries a route (its
// `retry.maxRetries`) and then moves on, on errors worth retrying: connect errors, timeouts, 429,
// 5xx, usage limits; honours Retry-After. An upstream failure that another try cannot fix (no
// cookies) moves straight to the next route; an invalid request is never retried. Every attempt
// draws from the request's CallBudget. Once a route has produced an event, the caller gets that
// first batch and the route's own iterator: no layer of ours between it and the encoder, and
// content is never restarted or spliced.

import type { CallBudget } from '../core/call-budget.js';
import type { CallSignal } from '../core/call-signal.js';
import { batchesOf } from '../core/event-batches.js';
import { GatewayError, toGatewayError } from '../core/gateway-error.js';
import type { ProviderCallContext } from '../core/provider.js';
import type { ChatEvent, ChatRequest } from '../core/types.js';
import { metrics } from '../metrics.js';
import type { Route } from './router.js';

export interface FallbackContext extends Omit<ProviderCallContext, 'upstreamModel' | 'budget'> {
  budget: CallBudget;
  /** Called when a route produced its first event (the one that serves the request). */
  onServed(route: Route, attempts: number): void;
  /** Longest Retry-After worth waiting for before moving to the next route. */
  maxRetryWaitMs?: number;
  /** Start a route's stream (lets the caller wrap it, e.g. with tool emulation). */
  open?(route: Route, request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent[]>;
}

/** The route that answered: its first batch of events, and the rest (undefined: it ended there). */
export interface OpenedStream {
  first: ChatEvent[];
  rest: AsyncIterator<ChatEvent[]> | undefined;
}

/** A route's events in batches: the provider's own batches when it has them. */
export function openRoute(route: Route, request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent[]> {
  const provider = route.provider;
  return provider.streamBatches ? provider.streamBatches(request, context) : batchesOf(provider.stream(request, context));
}

const BASE_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2000;
const UPSTREAM_FAULTS = new Set<GatewayError['kind']>(['rate_limited', 'upstream_overloaded', 'upstream_unavailable', 'timeout']);

export async function openWithFallback(routes: Route[], request: ChatRequest, context: FallbackContext): Promise<OpenedStream> {
  const maxWait = context.maxRetryWaitMs ?? 10_000;
  let lastError: GatewayError | undefined;
  let attempts = 0;

  for (let r = 0; r < routes.length; r++) {
    const route = routes[r]!;
    const policy = route.retry;
    const tries = 1 + (policy.enabled ? policy.maxRetries : 0);
    for (let attempt = 0; attempt < tries; attempt++) {
      if (!context.budget.take(attempt === 0 ? 'route' : 'retry')) {
        context.log.warn({ provider: route.provider.id, calls: context.budget.used }, 'upstream call budget spent (routing.max_upstream_calls)');
        throw lastError ?? new GatewayError('upstream_unavailable', 'No upstream could serve the request');
      }
      attempts++;
      const started = performance.now();
      const callContext: ProviderCallContext = { signal: context.signal, log: context.log, requestId: context.requestId, upstreamModel: route.upstreamModel, budget: context.budget, ...(context.origin ? { origin: context.origin } : {}), ...(context.servedBy ? { servedBy: context.servedBy } : {}) };
      const batches = context.open ? context.open(route, request, callContext) : openRoute(route, request, callContext);
      const iterator = batches[Symbol.asyncIterator]();
      let first: IteratorResult<ChatEvent[]>;
      try {
        first = await iterator.next();
        if (!first.done && first.value[0]?.type === 'error') throw first.value[0].error;
      } catch (error) {
        if (context.signal.aborted) throw error;
        const failure = toGatewayError(error);
        void iterator.return?.();
        metrics.upstreamErrors.inc({ provider: route.provider.id, kind: failure.kind });
        if (!UPSTREAM_FAULTS.has(failure.kind) || !policy.enabled) throw failure;
        lastError = failure;
        const last = attempt === tries - 1;
        const wait = failure.retryAfter !== undefined ? failure.retryAfter * 1000 : Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
        const moveOn = last || !failure.retryable || wait > maxWait;
        context.log.warn(
          { provider: route.provider.id, model: route.upstreamModel, attempt: attempt + 1, kind: failure.kind, err: failure.message, ms: Math.round(performance.now() - started) },
          moveOn ? (r + 1 < routes.length ? `upstream failed, falling back to ${routes[r + 1]!.upstreamModel}` : 'upstream failed, no fallback left') : 'upstream failed, retrying',
        );
        if (moveOn) break;
        await sleep(wait, context.signal);
        continue;
      }
      context.onServed(route, attempts);
      if (route !== routes[0]) metrics.fallbacks.inc({ from: routes[0]!.provider.id, to: route.provider.id });
      return first.done ? { first: [], rest: undefined } : { first: first.value, rest: iterator };
    }
  }
  throw lastError ?? new GatewayError('upstream_unavailable', 'No upstream could serve the request');
}

function sleep(ms: number, signal: CallSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

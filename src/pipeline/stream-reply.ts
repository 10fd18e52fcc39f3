// Writes a committed stream: canonical events -> the protocol's encoder -> the SSE body, with
// keep-alives while the upstream is silent and backpressure from the client. At the end, the one
// finish (core/event-contract.ts) and the one usage event, then the protocol's end.

import type { FastifyRequest } from 'fastify';
import type { EventContract } from '../core/event-contract.js';
import { toGatewayError } from '../core/gateway-error.js';
import type { ChatEvent } from '../core/types.js';
import { metrics } from '../metrics.js';
import type { StreamEncoder } from '../protocols/encoder.js';
import { pinger } from './keepalive.js';
import type { SseBody } from './sse-body.js';
import type { UsageTracker } from './usage.js';

/** Usage and finish events are held back by the gate; this is the next event it lets through. */
export async function nextPassed(iterator: AsyncIterator<ChatEvent>, gate: (event: ChatEvent) => boolean): Promise<IteratorResult<ChatEvent>> {
  for (;;) {
    const step = await iterator.next();
    if (step.done || gate(step.value)) return step;
  }
}

export interface StreamState {
  iterator: AsyncIterator<ChatEvent>;
  gate: (event: ChatEvent) => boolean;
  usage: UsageTracker;
  contract: EventContract;
}

export async function pump(
  body: SseBody,
  encoder: StreamEncoder,
  first: Promise<IteratorResult<ChatEvent>>,
  state: StreamState,
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
        request.ctx.errorKind = event.error.kind;
        await body.write(encoder.fail(event.error));
        request.log.warn({ kind: event.error.kind, err: event.error.message }, 'upstream failed mid-stream');
        return;
      }
      const waiting = body.write(encoder.event(event));
      if (waiting) await waiting;
      if (signal.aborted) return;
      next = nextPassed(state.iterator, state.gate);
    }
    if (signal.aborted) return;
    await body.write(encoder.event(state.contract.finish()));
    const final = await state.usage.final();
    request.ctx.usage = final;
    await body.write(encoder.event({ type: 'usage', usage: final }));
    await body.write(encoder.end());
  } catch (error) {
    if (signal.aborted) return;
    const failure = toGatewayError(error);
    request.ctx.errorKind = failure.kind;
    request.log.warn({ kind: failure.kind, err: failure.message }, 'upstream failed mid-stream');
    await body.write(encoder.fail(failure));
  } finally {
    metrics.inflightStreams.dec();
    pinger.delete(keepAlive);
    if (signal.aborted) void state.iterator.return?.();
    if (!body.destroyed) body.push(null);
  }
}

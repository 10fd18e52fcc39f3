// Writes a committed stream: batches of canonical events -> the protocol's encoder -> one write per
// batch into the SSE body, with keep-alives while the upstream is silent and backpressure from the
// client. At the end, the one finish (core/event-contract.ts) and the one usage event, then the
// protocol's end, in one write.

import type { FastifyRequest } from 'fastify';
import type { CallSignal } from '../core/call-signal.js';
import type { EventContract } from '../core/event-contract.js';
import { toGatewayError } from '../core/gateway-error.js';
import type { ChatEvent } from '../core/types.js';
import { metrics } from '../metrics.js';
import type { StreamEncoder } from '../protocols/encoder.js';
import type { EventFeed } from './event-feed.js';
import { pinger } from './keepalive.js';
import type { SseBody } from './sse-body.js';
import type { UsageTracker } from './usage.js';

export interface StreamState {
  feed: EventFeed;
  usage: UsageTracker;
  contract: EventContract;
}

/**
 * `first`: the first events when they are already here (written with the stream's start), or
 * their promise when the stream was committed before the upstream spoke (sse_commit_after).
 */
export async function pump(
  body: SseBody,
  encoder: StreamEncoder,
  first: ChatEvent[] | null | Promise<ChatEvent[] | null>,
  state: StreamState,
  request: FastifyRequest,
  pingEveryMs: number,
  signal: CallSignal,
): Promise<void> {
  metrics.inflightStreams.inc();
  const keepAlive = { body, ping: () => encoder.ping(), everyMs: pingEveryMs };
  pinger.add(keepAlive);
  let out = encoder.start();
  try {
    if (first instanceof Promise) {
      await body.write(out);
      out = '';
    }
    for (let batch = await first; batch; batch = await state.feed.next()) {
      if (signal.aborted) return;
      for (const event of batch) {
        if (event.type === 'error') {
          request.ctx.errorKind = event.error.kind;
          await body.write(out + encoder.fail(event.error));
          request.log.warn({ kind: event.error.kind, err: event.error.message }, 'upstream failed mid-stream');
          return;
        }
        out += encoder.event(event);
      }
      const waiting = body.write(out);
      out = '';
      if (waiting) await waiting;
      if (signal.aborted) return;
    }
    if (signal.aborted) return;
    out += encoder.event(state.contract.finish());
    const final = await state.usage.final();
    request.ctx.usage = final;
    body.finish(out + encoder.event({ type: 'usage', usage: final }) + encoder.end());
  } catch (error) {
    if (signal.aborted) return;
    const failure = toGatewayError(error);
    request.ctx.errorKind = failure.kind;
    request.log.warn({ kind: failure.kind, err: failure.message }, 'upstream failed mid-stream');
    await body.write(out + encoder.fail(failure));
  } finally {
    metrics.inflightStreams.dec();
    pinger.delete(keepAlive);
    if (signal.aborted) state.feed.close();
    body.finish();
  }
}

// Graceful shutdown: stop accepting, let in-flight requests and streams finish, and after a
// bounded time cut whatever is still open so the process always exits.

import type { FastifyInstance } from 'fastify';

export interface DrainResult {
  /** True when the timeout passed and open connections were cut. */
  forced: boolean;
  durationMs: number;
}

const inflight = new WeakMap<FastifyInstance, { count: number }>();

/**
 * Count requests from arrival until their response closes (finished, or the client left).
 * Connections are not a good measure: clients keep idle ones and open spare ones (undici does
 * after an aborted stream) that have no request on them and would hold a drain forever.
 */
export function trackInflight(app: FastifyInstance): { readonly count: number } {
  const counter = { count: 0 };
  inflight.set(app, counter);
  // Callback hooks on the request path: an async hook costs a promise and a microtask per request.
  app.addHook('onRequest', (_request, reply, done) => {
    counter.count++;
    reply.raw.on('close', () => counter.count--); // a response closes once: no `once` wrapper
    done();
  });
  return counter;
}

export function inflightCount(app: FastifyInstance): number {
  return inflight.get(app)?.count ?? 0;
}

export async function drain(app: FastifyInstance, timeoutMs: number): Promise<DrainResult> {
  const started = performance.now();
  const closed = app.close().then(() => false);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  // Once no request is in flight, whatever connections remain are idle or unused: close them.
  const sweeper = setInterval(() => {
    if (inflightCount(app) === 0) app.server.closeAllConnections();
    else app.server.closeIdleConnections();
  }, 25);
  const forced = await Promise.race([closed, deadline]);
  clearTimeout(timer);
  clearInterval(sweeper);
  if (forced) {
    app.server.closeAllConnections();
    await closed;
  }
  return { forced, durationMs: Math.round(performance.now() - started) };
}

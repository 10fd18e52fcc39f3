// Graceful shutdown: stop accepting, let in-flight requests and streams finish, and after a
// bounded time cut whatever is still open so the process always exits.

import type { FastifyInstance } from 'fastify';

export interface DrainResult {
  /** True when the timeout passed and open connections were cut. */
  forced: boolean;
  durationMs: number;
}

export async function drain(app: FastifyInstance, timeoutMs: number): Promise<DrainResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const closed = app.close().then(() => false);
  // server.close() drops only the connections idle at that moment; a keep-alive connection
  // whose stream ends later would hold the drain until its keep-alive timeout.
  const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const forced = await Promise.race([closed, deadline]);
  clearTimeout(timer);
  clearInterval(sweeper);
  if (forced) {
    app.server.closeAllConnections();
    await closed;
  }
  return { forced, durationMs: Math.round(performance.now() - started) };
}

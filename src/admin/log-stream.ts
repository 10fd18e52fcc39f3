// GET /admin/logs/stream: the gateway's log lines as server-sent events, for the console's live
// log. Admin token in the Authorization header (the console reads it with fetch() streaming, so no
// token ever sits in a URL). Lines are what the log manager writes at its current level, already
// scrubbed of secrets, as pino JSON (one `data:` per line). A bounded ring keeps the last lines for
// a new viewer (`?backlog=N`, default 100); a slow viewer loses lines (counted, said in a
// `dropped` event) instead of growing memory. Streams end when the gateway shuts down.

import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { LogManager } from '../logging/log-manager.js';

const KEEP = 500;
const MAX_LINE = 16 * 1024;
const MAX_BUFFERED = 1024 * 1024;
const PING_MS = 15_000;

export class LogBroadcaster {
  private readonly ring: Array<string | undefined>;
  private next = 0;
  private readonly listeners = new Set<(line: string) => void>();

  constructor(readonly capacity = KEEP) {
    this.ring = new Array<string | undefined>(capacity);
  }

  push(raw: string): void {
    let line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    // A huge debug line (a request body) is cut, still as valid JSON.
    if (line.length > MAX_LINE) line = JSON.stringify({ level: 'info', msg: `${line.slice(0, MAX_LINE)}… (${line.length} characters, cut)` });
    this.ring[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    for (const listener of this.listeners) listener(line);
  }

  /** The last `count` lines, oldest first. */
  recent(count: number): string[] {
    const out: string[] = [];
    for (let i = Math.min(count, this.capacity); i >= 1; i--) {
      const line = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (line !== undefined) out.push(line);
    }
    return out;
  }

  subscribe(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}

export function registerLogStream(app: FastifyInstance, logs: LogManager): LogBroadcaster {
  const broadcaster = new LogBroadcaster();
  const untap = logs.tap((line) => broadcaster.push(line));
  const open = new Set<() => void>();
  // Before the server waits for requests to finish: a viewer's stream would hold the drain.
  app.addHook('preClose', async () => {
    for (const stop of [...open]) stop();
  });
  app.addHook('onClose', async () => void untap());

  app.get<{ Querystring: { backlog?: string } }>('/admin/logs/stream', async (request, reply) => {
    const backlog = Math.max(0, Math.min(KEEP, Math.floor(Number(request.query.backlog ?? 100)) || 0));
    const body = new PassThrough();
    let dropped = 0;
    const send = (line: string) => {
      if (body.writableLength > MAX_BUFFERED) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        body.write(`event: dropped\ndata: ${JSON.stringify({ lines: dropped })}\n\n`);
        dropped = 0;
      }
      body.write(`data: ${line}\n\n`);
    };
    body.write(`event: hello\ndata: ${JSON.stringify({ level: logs.logger.level, backlog })}\n\n`);
    for (const line of broadcaster.recent(backlog)) send(line);
    const unsubscribe = broadcaster.subscribe(send);
    const ping = setInterval(() => body.write(': ping\n\n'), PING_MS);
    ping.unref();
    const stop = () => {
      if (!open.delete(stop)) return;
      clearInterval(ping);
      unsubscribe();
      body.end();
    };
    open.add(stop);
    reply.raw.once('close', stop);
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(body);
  });
  return broadcaster;
}

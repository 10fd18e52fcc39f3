// The SSE response a stream writes into: straight to the HTTP response (no Readable and pipe in
// between), waiting for the client's demand so a slow reader is not buffered without bound.

import type { ServerResponse } from 'node:http';

export class SseBody {
  private waiting: Promise<void> | undefined;
  private ended = false;
  private started = false;
  lastPushAt = performance.now();

  /** `onFirstByte`: told when the first bytes go out (time to first byte). */
  constructor(
    private readonly response: ServerResponse,
    private readonly headers: Record<string, string | number | string[]>,
    private readonly onFirstByte?: () => void,
  ) {}

  get destroyed(): boolean {
    return this.response.destroyed;
  }

  /** True while the client has not read what is queued: no keep-alive is needed (or useful) then. */
  get backedUp(): boolean {
    return this.waiting !== undefined;
  }

  /** Resolves once the client wants more. Every writer (the pump and the pinger) shares one wait, so
   * a ping written while the pump waits cannot take its wake-up. */
  write(chunk: string): Promise<void> | undefined {
    if (!chunk || this.ended || this.response.destroyed) return undefined;
    this.lastPushAt = performance.now();
    this.head();
    if (this.response.write(chunk)) return undefined;
    return (this.waiting ??= new Promise<void>((resolve) => {
      const response = this.response;
      const wake = () => {
        response.off('drain', wake);
        response.off('close', wake);
        this.waiting = undefined;
        resolve();
      };
      response.on('drain', wake);
      // A client that left must not leave the pump waiting for demand that never comes.
      response.on('close', wake);
    }));
  }

  /** The last bytes and the end of the response, in one write (idempotent). */
  finish(last = ''): void {
    if (this.ended) return;
    this.ended = true;
    if (this.response.destroyed) return;
    this.head();
    this.response.end(last);
  }

  private head(): void {
    if (this.started) return;
    this.started = true;
    this.onFirstByte?.();
    this.response.writeHead(200, this.headers);
  }
}

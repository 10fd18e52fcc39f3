// The SSE response body a stream writes into: a Readable that waits for the client's demand, so
// a slow reader is not buffered without bound.

import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export class SseBody extends Readable {
  private wake: (() => void) | undefined;
  private waiting: Promise<void> | undefined;
  private ended = false;
  lastPushAt = performance.now();

  /** `response`: the socket's response, corked while the last bytes and the end go out together. */
  constructor(private readonly response?: ServerResponse) {
    super({ highWaterMark: 64 * 1024 });
  }

  /** The last bytes and the end of the body: one socket write for both (idempotent). */
  finish(last = ''): void {
    if (this.ended) return;
    this.ended = true;
    if (this.destroyed) return;
    const response = this.response;
    response?.cork();
    if (last) this.push(last);
    this.push(null);
    // The pipe ends the response on a later tick: uncork after it.
    if (response) setImmediate(() => response.uncork());
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
    if (!chunk || this.destroyed || this.ended) return undefined;
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

// One upstream HTTP call on undici's dispatch API, read by pulling batches of body chunks. undici's
// `request()` wraps every response in a Readable, an async iterator and an AbortSignal listener; on the
// hot path (one per chat request, a dozen reads per stream) that machinery cost more than our own
// SSE work. Here undici pushes into a small queue and the reader takes everything queued in one step.
// Backpressure: past HIGH_WATER queued bytes the socket is paused until the reader catches up.

import type { Dispatcher } from 'undici';

type IncomingHttpHeaders = Record<string, string | string[] | undefined>;

export const HIGH_WATER = 64 * 1024;

export interface UpstreamHead {
  status: number;
  headers: IncomingHttpHeaders;
}

export class UpstreamCall implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  /** Pending aborts before undici handed us its controller. */
  private abortReason: Error | undefined;
  private wake: (() => void) | undefined;
  private headWaiter: { resolve: (head: UpstreamHead) => void; reject: (error: Error) => void } | undefined;
  private head: UpstreamHead | undefined;

  constructor(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions) {
    dispatcher.dispatch(options, this);
  }

  /** Status and headers (rejects on a transport failure or abort before them). */
  response(): Promise<UpstreamHead> {
    if (this.head) return Promise.resolve(this.head);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.headWaiter = { resolve, reject }));
  }

  /**
   * Every body chunk queued since the last call (at least one), or null at the end of the body.
   * The array is the caller's until the next call.
   */
  async read(): Promise<Buffer[] | null> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const chunks = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.controller?.paused) this.controller.resume();
    return chunks;
  }

  /** Ends the call (the socket is closed by undici); a pending read rejects with `reason`. */
  abort(reason: Error): void {
    if (this.ended || this.failure) return;
    if (this.controller) this.controller.abort(reason);
    else this.abortReason = reason;
  }

  /** Bytes received and not read yet (bounded by the pause past HIGH_WATER). */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  get finished(): boolean {
    return this.ended || this.failure !== undefined;
  }

  // undici's side -------------------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.head = { status: statusCode, headers };
    this.headWaiter?.resolve(this.head);
    this.headWaiter = undefined;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER) controller.pause();
    this.signal();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.signal();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.failure = error;
    this.headWaiter?.reject(error);
    this.headWaiter = undefined;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

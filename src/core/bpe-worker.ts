// Exact o200k counts (gpt-tokenizer) in a worker thread, for /v1/messages/count_tokens and callers
// that ask for an exact figure. The BPE tables cost ~67 MiB of heap: in a worker they live in the
// worker's own isolate, which is started on the first count and ended after `idleMs` without one,
// so an idle gateway (and one whose upstreams report usage) does not carry them. Calls queue to the
// worker by message id; if the worker dies, every pending call is rejected and the next call starts
// a new one.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Idle time after which the worker (and its tables) is ended. */
export const DEFAULT_IDLE_MS = 30_000;

/**
 * The worker's code, evaluated as a CommonJS script (`eval: true`): a file next to this module would
 * not exist when the sources run untranspiled under the test runner, and a serialised function would
 * carry the transpiler's helpers. It loads the tokenizer from the path resolved by the parent.
 *
 * BPE merging is quadratic in a pre-token, and a run without whitespace is one pre-token: 130 KB of
 * Chinese took 11 s in one call. Runs of 256+ such characters are counted in 256-character slices,
 * which gives the same count to within a token per slice, in milliseconds.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { countTokens } = require(workerData.tokenizer);
const LONG_RUN = /\\S{256,}/g;
function count(text) {
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(LONG_RUN)) {
    total += countTokens(text.slice(last, match.index));
    const run = match[0];
    for (let i = 0; i < run.length; i += 256) total += countTokens(run.slice(i, i + 256));
    last = match.index + run.length;
  }
  return total + (last < text.length ? countTokens(text.slice(last)) : 0);
}
parentPort.on('message', ({ id, text }) => {
  try {
    parentPort.postMessage({ id, count: count(text) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Reply {
  id: number;
  count?: number;
  error?: string;
}

interface Pending {
  resolve(count: number): void;
  reject(error: Error): void;
}

export interface BpeWorkerOptions {
  /** End the worker after this long without a pending count (default 30 s). */
  idleMs?: number;
  /** Heap limit of the worker's isolate: the tables take ~67 MiB, the rest is for the texts. */
  maxHeapMb?: number;
}

export class BpeWorker {
  protected worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly idleMs: number;
  private readonly maxHeapMb: number;
  /** Workers started so far (a test reads it to see a restart). */
  started = 0;

  constructor(options: BpeWorkerOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.maxHeapMb = options.maxHeapMb ?? 128;
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  count(text: string): Promise<number> {
    if (!text) return Promise.resolve(0);
    const worker = this.worker ?? this.start();
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, text });
    });
  }

  /** End the worker now; pending calls are rejected. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker) {
      this.fail(new Error('token counter closed'));
      await worker.terminate();
    }
  }

  private start(): Worker {
    const tokenizer = createRequire(import.meta.url).resolve('gpt-tokenizer/encoding/o200k_base');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { tokenizer },
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
    });
    // Neither the worker nor its idle timer keeps the process alive: a server does that.
    worker.unref();
    this.started++;
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => {
      if (this.worker === worker) this.fail(new Error(`token counter worker failed: ${error.message}`));
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(new Error(`token counter worker exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    if (reply.error !== undefined) call.reject(new Error(`token count failed: ${reply.error}`));
    else call.resolve(reply.count ?? 0);
    if (this.pending.size === 0) this.armIdle();
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const worker = this.worker;
      if (!worker || this.pending.size > 0) return;
      this.worker = undefined;
      void worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  /** The worker is gone: every pending call fails, and the next call starts a new worker. */
  private fail(error: Error): void {
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.reject(error);
  }
}

// What the pipeline reads from the answering route: batches of events that passed the gate (usage
// and finishes are held back, core/event-contract.ts and usage.ts), one await per upstream read.

import type { ChatEvent } from '../core/types.js';
import type { OpenedStream } from './fallback.js';

export class EventFeed {
  private rest: AsyncIterator<ChatEvent[]> | undefined;
  private opening: Promise<OpenedStream> | undefined;
  private closed = false;

  constructor(
    opened: Promise<OpenedStream>,
    private readonly gate: (event: ChatEvent) => boolean,
  ) {
    this.opening = opened;
  }

  /** The next events the gate let through (never empty); null when the stream ended. */
  async next(): Promise<ChatEvent[] | null> {
    if (this.opening) {
      const opened = await this.opening;
      this.opening = undefined;
      this.rest = opened.rest;
      if (this.closed) this.close();
      const passed = this.pass(opened.first);
      if (passed.length > 0) return passed;
    }
    for (;;) {
      if (!this.rest) return null;
      const step = await this.rest.next();
      if (step.done) {
        this.rest = undefined;
        return null;
      }
      const passed = this.pass(step.value);
      if (passed.length > 0) return passed;
    }
  }

  /** Stop the upstream (the client left). */
  close(): void {
    this.closed = true;
    const rest = this.rest;
    this.rest = undefined;
    void rest?.return?.();
  }

  private pass(batch: ChatEvent[]): ChatEvent[] {
    let kept = 0;
    for (let i = 0; i < batch.length; i++) if (this.gate(batch[i]!)) batch[kept++] = batch[i]!;
    batch.length = kept;
    return batch;
  }
}

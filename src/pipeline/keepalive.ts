// Keep-alives for silent streams (Claude Code hangs forever on an idle stream). One timer for
// every open stream: a stream whose last write is older than its ping interval gets a ping. (A
// timer per stream costs more than the streams themselves at high concurrency.)

import type { SseBody } from './sse-body.js';

export interface KeptAlive {
  body: SseBody;
  ping: () => string;
  everyMs: number;
}

class Pinger {
  private readonly streams = new Set<KeptAlive>();
  private timer: NodeJS.Timeout | undefined;
  private tickMs = 1000;

  add(stream: KeptAlive): void {
    this.streams.add(stream);
    const tick = Math.max(50, Math.floor(stream.everyMs / 2));
    if (!this.timer || tick < this.tickMs) this.restart(Math.min(tick, this.tickMs));
  }

  delete(stream: KeptAlive): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.tickMs = 1000;
    }
  }

  private restart(tickMs: number): void {
    if (this.timer) clearInterval(this.timer);
    this.tickMs = tickMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const s of this.streams) if (now - s.body.lastPushAt >= s.everyMs && !s.body.backedUp) void s.body.write(s.ping());
    }, tickMs);
    this.timer.unref();
  }
}

export const pinger = new Pinger();

// IP blocks. Google answers "unusual traffic" (a 302 to /sorry, or a 429) for the IP a request
// came from, whichever account it carried, and the block lasts about two hours. So the unit that
// rests is the egress: an account's proxy, or the direct connection. Accounts that share a
// blocked egress are not tried until it lifts; replicas learn of a block through the coordinator.

import type { AccountCoordinator } from '../../state/account-coordinator.js';

/** The egress of an account: its proxy URL without a password, or "direct". */
export function egressOf(proxy: string | undefined): string {
  if (!proxy) return 'direct';
  try {
    const url = new URL(proxy);
    if (url.password) url.password = '****';
    return url.toString().replace(/\/$/, '');
  } catch {
    return 'proxy';
  }
}

export class EgressBlocks {
  private readonly until = new Map<string, number>();

  constructor(private readonly shared?: AccountCoordinator) {}

  block(egress: string, untilMs: number): void {
    if ((this.until.get(egress) ?? 0) >= untilMs) return;
    this.until.set(egress, untilMs);
    void this.shared?.rest(`egress:${egress}`, 'blocked', untilMs);
  }

  /** When the block on `egress` lifts (ms since the epoch), or undefined when it is not blocked. */
  blockedUntil(egress: string, now = Date.now()): number | undefined {
    const until = this.until.get(egress);
    if (until === undefined) return undefined;
    if (until <= now) {
      this.until.delete(egress);
      return undefined;
    }
    return until;
  }

  /** Blocks another replica saw (a no-op without Redis). */
  async sync(egresses: Iterable<string>): Promise<void> {
    if (!this.shared) return;
    for (const egress of new Set(egresses)) {
      const rest = await this.shared.resting(`egress:${egress}`);
      if (rest && rest.until > Date.now() && (this.until.get(egress) ?? 0) < rest.until) this.until.set(egress, rest.until);
    }
  }

  list(now = Date.now()): Array<{ egress: string; until: string }> {
    return [...this.until.keys()].filter((e) => this.blockedUntil(e, now) !== undefined).map((egress) => ({ egress, until: new Date(this.until.get(egress)!).toISOString() }));
  }
}

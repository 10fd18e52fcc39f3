// How many upstream calls one client request may cause, in one place. Every loop that calls an
// upstream again draws from the same budget: the fallback chain (retries and next routes), Gemini's
// account failover, access-token refresh and chat-reuse drop, and tool emulation's corrective
// re-ask. The limit is `routing.max_upstream_calls`; the count goes into the request log line.

export class CallBudget {
  private spent = 0;
  private readonly why: string[] = [];

  constructor(readonly limit: number) {}

  /** Take one call for `reason`; false when the request has spent its budget (stop trying). */
  take(reason: string): boolean {
    if (this.spent >= this.limit) return false;
    this.spent++;
    this.why.push(reason);
    return true;
  }

  get used(): number {
    return this.spent;
  }

  /** What each call was for, in order (`route`, `retry`, `account`, `token`, `reuse`, `reask`). */
  get reasons(): readonly string[] {
    return this.why;
  }
}

/** For calls made outside a client request (doctor, console test): no limit worth counting. */
export function unlimitedBudget(): CallBudget {
  return new CallBudget(Number.MAX_SAFE_INTEGER);
}

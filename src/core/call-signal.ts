// The abort signal a provider call gets. On Node 20 an AbortSignal costs ~5 µs to create (its
// prototype is set after the object is built, which leaves it slow) and about as much again for a
// listener added and removed: ~2 % of a passthrough request's CPU, paid by every request although
// almost none is ever aborted. A request's abort is therefore this small class; a real AbortSignal
// is made only when a consumer needs one (undici's request() and fetch, in the Gemini web client).

/** What providers and the pipeline read of a signal: a real AbortSignal has all of it. */
export interface CallSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class RequestAbort implements CallSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | undefined;
  private controller: AbortController | undefined;

  /** Like an AbortSignal's: a listener added after the abort is never called; each is called once. */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.aborted) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at !== -1) this.listeners!.splice(at, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  /** A real AbortSignal that follows this abort, made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

/** The real AbortSignal of a call signal (the signal itself when it already is one). */
export function abortSignalOf(signal: CallSignal): AbortSignal {
  return signal instanceof RequestAbort ? signal.signal : (signal as AbortSignal);
}

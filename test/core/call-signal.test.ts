import { describe, expect, it } from 'vitest';
import { abortSignalOf, RequestAbort } from '../../src/core/call-signal.js';

describe('RequestAbort (a request abort without a Node AbortSignal until one is needed)', () => {
  it('calls each listener once with the reason set, and not the removed ones', () => {
    const abort = new RequestAbort();
    const seen: unknown[] = [];
    const first = () => seen.push(['first', abort.aborted, abort.reason]);
    const second = () => seen.push('second');
    const third = () => seen.push('third');
    abort.addEventListener('abort', first, { once: true });
    abort.addEventListener('abort', second);
    abort.addEventListener('abort', third);
    abort.removeEventListener('abort', second);
    abort.removeEventListener('abort', () => seen.push('never added'));
    const reason = new Error('client disconnected');
    abort.abort(reason);
    abort.abort(new Error('again'));
    expect(seen).toEqual([['first', true, reason], 'third']);
    expect(abort.reason).toBe(reason);
    abort.addEventListener('abort', () => seen.push('after the abort'));
    expect(seen).toHaveLength(2);
  });

  it('gives a real AbortSignal that follows it, made before or after the abort', async () => {
    const before = new RequestAbort();
    const signal = abortSignalOf(before);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(abortSignalOf(before)).toBe(signal);
    const fired = new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
    const reason = new Error('gone');
    before.abort(reason);
    expect(signal.aborted).toBe(true);
    await expect(fired).resolves.toBe(reason);

    const after = new RequestAbort();
    after.abort(reason);
    expect(abortSignalOf(after).aborted).toBe(true);
    expect(abortSignalOf(after).reason).toBe(reason);
  });

  it('passes a real AbortSignal through', () => {
    const controller = new AbortController();
    expect(abortSignalOf(controller.signal)).toBe(controller.signal);
  });
});

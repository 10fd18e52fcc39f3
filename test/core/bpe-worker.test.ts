// The exact BPE in its worker thread: same counts as the tokenizer in this thread, calls matched to
// replies by id, the worker (and its tables) gone after the idle time, and a dead worker failing its
// pending calls with a clear error while the next call starts a new one.
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { afterEach, describe, expect, it } from 'vitest';
import { BpeWorker } from '../../src/core/bpe-worker.js';
import { waitFor } from '../helpers/gateway.js';

class KillableWorker extends BpeWorker {
  kill(): Promise<number> {
    return this.worker!.terminate();
  }
}

const workers: BpeWorker[] = [];
const make = <T extends BpeWorker>(w: T): T => (workers.push(w), w);
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

describe('BPE worker', () => {
  it('counts as the tokenizer in this thread does, each reply to its own call', async () => {
    const bpe = make(new BpeWorker({ idleMs: 5000 }));
    const texts = ['The quick brown fox jumps over the lazy dog. '.repeat(50), 'const x = await fetch(url);\n'.repeat(30), '网关把请求转发给上游。', 'a', ''];
    const counted = await Promise.all(texts.map((t) => bpe.count(t)));
    expect(counted).toEqual(texts.map((t) => (t ? countTokens(t) : 0)));
  });

  it('ends the worker after the idle time; the next count starts a new one', async () => {
    const bpe = make(new BpeWorker({ idleMs: 150 }));
    expect(bpe.running).toBe(false);
    expect(await bpe.count('hello world')).toBe(2);
    expect(bpe.running).toBe(true);
    await waitFor(() => !bpe.running, 5000, 20);
    expect(await bpe.count('hello world')).toBe(2);
    expect(bpe.started).toBe(2);
  });

  it('a count keeps the worker: the idle time runs from the last reply', async () => {
    const bpe = make(new BpeWorker({ idleMs: 400 }));
    for (let i = 0; i < 6; i++) {
      await bpe.count(`text ${i}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(bpe.started).toBe(1);
  });

  it('a dead worker rejects pending calls with a clear error; the next call starts a new worker', async () => {
    const bpe = make(new KillableWorker({ idleMs: 5000 }));
    await bpe.count('warm up');
    const pending = bpe.count('word '.repeat(200_000));
    await bpe.kill();
    await expect(pending).rejects.toThrow(/token counter worker exited/);
    expect(bpe.running).toBe(false);
    expect(await bpe.count('hello world')).toBe(2);
    expect(bpe.started).toBe(2);
  });
});

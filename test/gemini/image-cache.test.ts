// The generated-image disk cache: hits skip the fetch, least recently used out past the cap, and
// the index is rebuilt from the directory after a restart.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageCache } from '../../src/providers/gemini-web/image-cache.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'image-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const png = (fill: number, size = 100) => ({ status: 200, type: 'image/png', body: Buffer.alloc(size, fill) });

describe('ImageCache', () => {
  it('serves a second request from disk, evicts the least recently used past max_bytes, survives a restart', async () => {
    const cache = new ImageCache(dir, 250);
    let fetches = 0;
    const through = (url: string, fill: number) => cache.through(url, async () => (fetches++, png(fill)));
    expect((await through('u/a', 1)).body[0]).toBe(1);
    expect((await through('u/a', 9)).body[0], 'from the cache').toBe(1);
    expect(fetches).toBe(1);
    await through('u/b', 2);
    await through('u/a', 9); // a is now the most recently used
    await through('u/c', 3); // 300 bytes > 250: b goes
    expect(fetches).toBe(3);
    expect(await readdir(dir)).toHaveLength(2);
    const again = new ImageCache(dir, 250);
    const fresh = async () => png(9);
    expect((await again.through('u/a', fresh)).body[0], 'a restart keeps the files').toBe(1);
    expect((await again.through('u/c', fresh)).body[0]).toBe(3);
    expect((await again.through('u/b', fresh)).body[0], 'b was evicted').toBe(9);
  });

  it('does not keep failed fetches or images over the cap', async () => {
    const cache = new ImageCache(dir, 50);
    await cache.through('u/big', async () => png(1));
    await cache.through('u/err', async () => ({ status: 403, type: 'text/plain', body: Buffer.from('no') }));
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  });
});

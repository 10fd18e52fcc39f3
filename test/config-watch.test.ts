import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchConfigFile, type ConfigWatcher } from '../src/config/watch.js';
import { tempDir, waitFor } from './helpers/gateway.js';

let watcher: ConfigWatcher | undefined;
let dir: string | undefined;
afterEach(async () => {
  watcher?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('config file watcher', () => {
  it('debounces a burst of writes into one notification', async () => {
    dir = await tempDir();
    const file = path.join(dir, 'config.yaml');
    await writeFile(file, 'a: 1\n');
    let calls = 0;
    watcher = watchConfigFile(file, () => calls++, { debounceMs: 100, pollIntervalMs: 10_000 });
    for (let i = 0; i < 5; i++) await writeFile(file, `a: ${i}\n`);
    await waitFor(() => calls > 0, 1000);
    await new Promise((r) => setTimeout(r, 250));
    expect(calls).toBe(1);
  });

  it('ignores other files in the directory', async () => {
    dir = await tempDir();
    const file = path.join(dir, 'config.yaml');
    await writeFile(file, 'a: 1\n');
    let calls = 0;
    watcher = watchConfigFile(file, () => calls++, { debounceMs: 30, pollIntervalMs: 10_000 });
    await writeFile(path.join(dir, 'other.yaml'), 'b: 1\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(0);
  });

  it('notices a file whose directory appears only later (stat polling)', async () => {
    dir = await tempDir();
    const file = path.join(dir, 'later', 'config.yaml');
    let calls = 0;
    watcher = watchConfigFile(file, () => calls++, { debounceMs: 20, pollIntervalMs: 100 });
    await mkdir(path.dirname(file));
    await writeFile(file, 'a: 1\n');
    await waitFor(() => calls > 0, 1500);
  });
});

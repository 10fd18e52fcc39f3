// Watches the config file for changes. Watching the directory (not the file) survives editors
// that save by writing a temp file and renaming it over the original; a slow stat poll covers
// what fs.watch misses (Docker bind mounts of a single file, network filesystems, a directory
// that does not exist yet). Events are debounced; the store ignores unchanged content.

import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface ConfigWatcherOptions {
  debounceMs?: number;
  pollIntervalMs?: number;
}

export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(file: string, onChange: () => void, options: ConfigWatcherOptions = {}): ConfigWatcher {
  const debounceMs = options.debounceMs ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const base = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };

  let dirWatcher: FSWatcher | undefined;
  try {
    dirWatcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
      if (name === null || name === base) schedule();
    });
    dirWatcher.on('error', () => {
      // The directory went away; the stat poll below keeps watching for the file to return.
      dirWatcher?.close();
      dirWatcher = undefined;
    });
  } catch {
    dirWatcher = undefined;
  }

  const poll = (current: { mtimeMs: number; size: number; ino: number }, previous: { mtimeMs: number; size: number; ino: number }) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) schedule();
  };
  watchFile(file, { persistent: false, interval: pollIntervalMs }, poll);

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      dirWatcher?.close();
      unwatchFile(file, poll);
    },
  };
}

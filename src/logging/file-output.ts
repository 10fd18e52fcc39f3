// logging.file: the file the user named is the one being written (`tail -f logs/gateway.log` works);
// rotation renames it to gateway.1.log (older ones shift to .2, .3 …, keeping `max_files`) and
// reopens the named file. pino-roll wrote gateway.1.log, gateway.2.log … and never the named file.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';

export interface RotatingFileOptions {
  file: string;
  rotation: { sizeBytes: number } | { frequency: 'daily' | 'hourly' };
  maxFiles: number;
}

export interface LogFileSink {
  write(line: string): unknown;
  flushSync(): unknown;
  end(): unknown;
}

/** gateway.log, 2 -> gateway.2.log (a name without an extension gets `.2`). */
export function rotatedName(file: string, n: number): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${n}${ext}`;
}

/** Shift gateway.log -> .1 -> .2 …; the oldest beyond maxFiles is removed. */
export function shiftFiles(file: string, maxFiles: number): void {
  rmSync(rotatedName(file, maxFiles), { force: true });
  for (let n = maxFiles - 1; n >= 1; n--) {
    const from = rotatedName(file, n);
    if (existsSync(from)) renameSync(from, rotatedName(file, n + 1));
  }
  if (existsSync(file)) renameSync(file, rotatedName(file, 1));
}

function nextBoundary(frequency: 'daily' | 'hourly', now = new Date()): number {
  const next = new Date(now);
  if (frequency === 'hourly') next.setHours(now.getHours() + 1, 0, 0, 0);
  else next.setHours(24, 0, 0, 0);
  return next.getTime();
}

export function openRotatingFile(options: RotatingFileOptions): LogFileSink {
  const { file, rotation, maxFiles } = options;
  mkdirSync(path.dirname(file), { recursive: true });
  // Appends to an existing file: a restart continues the same log.
  const destination = pino.destination({ dest: file, append: true, sync: false, mkdir: true });
  let size = 0;
  let timer: NodeJS.Timeout | undefined;

  const rotate = (): void => {
    try {
      shiftFiles(file, maxFiles);
      destination.reopen();
    } catch (error) {
      // Keep logging into whatever is open rather than lose lines; say why once per attempt.
      process.stderr.write(`log rotation of ${file} failed: ${(error as Error).message}\n`);
    }
  };

  if ('sizeBytes' in rotation) {
    destination.on('write', (n: number) => {
      size += n;
      if (size >= rotation.sizeBytes) {
        size = 0;
        rotate();
      }
    });
  } else {
    const schedule = (): void => {
      timer = setTimeout(() => {
        rotate();
        schedule();
      }, Math.max(1000, nextBoundary(rotation.frequency) - Date.now()));
      timer.unref();
    };
    schedule();
  }

  return {
    write: (line) => destination.write(line),
    flushSync: () => {
      try {
        destination.flushSync();
      } catch {
        // not open yet: nothing buffered to lose
      }
    },
    end: () => {
      if (timer) clearTimeout(timer);
      destination.end();
    },
  };
}

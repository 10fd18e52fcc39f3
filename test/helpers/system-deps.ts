// Tests that drive a system program (redis-server, chromium) check for it first. On a developer's
// machine a missing one skips those tests with one loud line naming the install command (repeated
// in the run's closing summary); under CI, where .ci/run installs them, a missing one fails the run.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Marks the line so the summary reporter can repeat it at the end of the run. */
export const MISSING_MARK = 'MISSING SYSTEM PACKAGE';

export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CI) && !['false', '0'].includes(env.CI!.toLowerCase());
}

/** An executable file: an absolute path, or a name searched on PATH. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = path.isAbsolute(name) ? [name] : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * True when `program` is there. Otherwise: under CI throws (the test file fails); elsewhere prints
 * one line, "MISSING SYSTEM PACKAGE: … SKIPPED … install: …", and returns false (use describe.skipIf).
 */
export function requireSystemPackage(program: string, options: { pkg: string; tests: string }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (findExecutable(program, env)) return true;
  const install = `sudo apt-get install ${options.pkg}`;
  if (inCi(env)) throw new Error(`${program} not found, and CI is set: ${options.tests} must run (.ci/run installs it: ${install})`);
  console.warn(`⚠ ${MISSING_MARK}: ${program} not found, ${options.tests} SKIPPED. Install it with: ${install}`);
  return false;
}

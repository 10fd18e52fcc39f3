import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Whether the script node was started with (`argv[1]`, maybe a symlink such as npm's bin link) is this module. */
export function isEntryPoint(argv1: string | undefined, moduleUrl: string): boolean {
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

// BENCH_BEFORE=<git ref>: that ref's gateway, built in a temporary git worktree, so the same run
// measures before and after side by side (two runs on a shared machine are not comparable).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface BeforeTree {
  ref: string;
  commit: string;
  entry: string;
  remove(): void;
}

/** The gateway's entry in a built tree: the bundle when the tree has one, else the tsc output. */
export function gatewayEntry(root: string): string {
  const bundle = path.join(root, 'dist/gateway.js');
  return existsSync(bundle) ? bundle : path.join(root, 'dist/main.js');
}

/** Checks out `ref` in a temporary worktree and builds it with its own tsconfig.build.json. */
export function buildBefore(ref: string, checkout: string): BeforeTree {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: checkout, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const commit = git('rev-parse', '--short', `${ref}^{commit}`);
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'gw-before-')), 'tree');
  git('worktree', 'add', '--detach', dir, commit);
  const remove = () => {
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      // already gone: fall through to deleting the directory
    }
    rmSync(path.dirname(dir), { recursive: true, force: true });
  };
  try {
    // The dependencies of this checkout: an older ref builds and runs against them (no install).
    symlinkSync(path.join(checkout, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const tsc = path.join(checkout, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
    return { ref, commit, entry: gatewayEntry(dir), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

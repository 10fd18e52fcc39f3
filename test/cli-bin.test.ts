// The CLI as users run it: through the bin link npm installs (`node_modules/.bin/gemini-gateway`, a
// symlink whose name is not cli.js) and through `npx gemini-gateway`, as the README's
// `echo "BEARER_TOKEN=$(npx gemini-gateway token)" > .env` does. dist/ must be built (npm test's pretest).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const TOKEN = /^[A-Za-z0-9_-]{43}\n$/;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gw-bin-'));
  await writeFile(path.join(dir, 'package.json'), '{"name":"bin-test","version":"1.0.0","private":true}');
  // A local directory installs as a link to this checkout (its node_modules resolve the
  // dependencies); npm writes the bin link exactly as for a registry install. No network.
  await run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', process.cwd()], { cwd: dir });
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the installed gemini-gateway bin', () => {
  it('prints a token through the bin link', async () => {
    const { stdout } = await run(path.join(dir, 'node_modules', '.bin', 'gemini-gateway'), ['token'], { cwd: dir });
    expect(stdout).toMatch(TOKEN);
  });

  it('prints a token through npx, and usage with exit 64 for an unknown command', async () => {
    const { stdout } = await run(npx, ['--offline', 'gemini-gateway', 'token'], { cwd: dir });
    expect(stdout).toMatch(TOKEN);
    const failed = await run(npx, ['--offline', 'gemini-gateway', 'no-such-command'], { cwd: dir }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed?.code).toBe(64);
    expect(failed?.stdout).toContain('Usage: gemini-gateway');
  }, 30_000);
});

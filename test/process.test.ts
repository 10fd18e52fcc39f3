// The real entry point as a child process: start-up validation, SIGHUP reload, SIGTERM drain.
// Needs the compiled output (`npm test` builds first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/gateway.js';

const MAIN = path.resolve('dist/main.js');

interface Running {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>, cwd?: string): Running {
  let out = '';
  const child = spawn(process.execPath, [MAIN], {
    cwd: cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? '', SERVER_HOST: '127.0.0.1', SERVER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function listeningUrl(r: Running): Promise<string> {
  await waitFor(() => /gateway listening on (http:\/\/[^"\s]+)/.test(r.out()), 5000);
  return /gateway listening on (http:\/\/[^"\s]+)/.exec(r.out())![1]!;
}

let dir: string;
const children: Running[] = [];
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error('dist/main.js missing: run `npm run build` (npm test does it)');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function withConfig(yaml: string | undefined): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'gw-proc-'));
  const file = path.join(dir, 'config.yaml');
  if (yaml !== undefined) await writeFile(file, yaml);
  return file;
}

describe('gateway process', () => {
  it('exits non-zero at start-up on an invalid config, naming the key and the problem', async () => {
    const file = await withConfig('auth:\n  tokens:\n    - name: ci\nserver:\n  port: "x"\n');
    const r = run({ CONFIG_PATH: file, SERVER_PORT: '' });
    children.push(r);
    expect(await r.exited).toBe(2);
    expect(r.out()).toContain('auth.tokens[0].token: required');
    expect(r.out()).toMatch(/server\.port: /);
  });

  it('starts with defaults when there is no config file', async () => {
    const cwd = await withConfig(undefined);
    const r = run({}, path.dirname(cwd));
    children.push(r);
    const url = await listeningUrl(r);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('reloads on SIGHUP and drains on SIGTERM', async () => {
    const file = await withConfig('auth:\n  bearer_token: proc-token-one-1234\n');
    const r = run({ CONFIG_PATH: file, CONFIG_WATCH: 'false' });
    children.push(r);
    const url = await listeningUrl(r);
    const models = (token: string) => fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${token}` } }).then((res) => res.status);
    expect(await models('proc-token-one-1234')).toBe(200);

    await writeFile(file, 'auth:\n  bearer_token: proc-token-two-5678\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await models('proc-token-one-1234')).toBe(200); // file watching is off: nothing changed yet
    r.child.kill('SIGHUP');
    await waitFor(() => r.out().includes('"trigger":"signal"'), 3000);
    expect(await models('proc-token-two-5678')).toBe(200);
    expect(await models('proc-token-one-1234')).toBe(401);

    // An invalid file on SIGHUP keeps the running config.
    await writeFile(file, 'auth: [oops\n');
    r.child.kill('SIGHUP');
    await waitFor(() => r.out().includes('config reload failed'), 3000);
    expect(await models('proc-token-two-5678')).toBe(200);

    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    expect(r.out()).toContain('shutdown: drained');
    expect(r.out()).not.toContain('proc-token-two-5678');
  });
});

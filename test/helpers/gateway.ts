import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, type Gateway, type StartOptions } from '../../src/server.js';
import { CaptureStream } from './capture.js';

export interface TestGateway {
  gw: Gateway;
  dir: string;
  configPath: string;
  logs: CaptureStream;
  /** Replace the config file atomically (temp + rename, as many editors save). */
  writeConfig(yaml: string): Promise<void>;
  stop(): Promise<void>;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'gw-test-'));
}

/**
 * Start a real gateway on 127.0.0.1 with a random port and a config file in a temp dir (removed
 * on stop; pass a function to place other files, such as logs, in that dir).
 */
export async function startTestGateway(
  yaml: string | ((dir: string) => string) | undefined,
  options: Partial<StartOptions> & { env?: Record<string, string>; files?: Record<string, string>; dir?: string } = {},
): Promise<TestGateway> {
  const dir = options.dir ?? (await tempDir());
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(path.join(dir, name), content);
  const configPath = path.join(dir, 'config.yaml');
  if (yaml !== undefined) await writeFile(configPath, typeof yaml === 'function' ? yaml(dir) : yaml);
  const logs = new CaptureStream();
  const gw = await startGateway({
    ...options,
    env: { CONFIG_PATH: configPath, SERVER_HOST: '127.0.0.1', SERVER_PORT: '0', ...options.env },
    stdout: logs,
    watch: { debounceMs: 50, pollIntervalMs: 200, ...options.watch },
  });
  return {
    gw,
    dir,
    configPath,
    logs,
    async writeConfig(text: string) {
      const tmp = `${configPath}.tmp-${Date.now()}`;
      await writeFile(tmp, text);
      await rename(tmp, configPath);
    },
    async stop() {
      await gw.close(2000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Poll until `check` returns true or the time runs out. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 2000, stepMs = 20): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * The built gateway (dist/main.js) as its own process on 127.0.0.1:`port`, resolved once /health
 * answers. `prefix` runs it under a command that execs it (`taskset -c 0`), so the pid stays node's.
 */
export async function spawnGatewayProcess(
  configPath: string,
  port: number,
  nodeOptions = '',
  extraEnv: Record<string, string> = {},
  prefix: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...extraEnv, CONFIG_PATH: configPath, SERVER_PORT: String(port), SERVER_HOST: '127.0.0.1' };
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  const [command, ...args] = [...prefix, process.execPath, 'dist/main.js'];
  const child = spawn(command!, args, { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health`).catch(() => undefined))?.status === 200, 10_000, 50);
  return { child, url };
}

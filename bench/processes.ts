// The processes a benchmark starts: pinned to a core when `taskset` exists (targets on core 0, load
// generator and fakes on core 1), all killed by killAll(), and gateways timed from spawn to their
// first answered chat completion.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { PSID, PSIDTS } from '../test/fakes/gemini-web.js';
import { loadRunGeminiYaml } from '../test/helpers/gemini.js';
import { TOKEN } from './measure.js';

export const HAS_TASKSET = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const children: ChildProcess[] = [];

/** Kills every process spawned so far; safe to call twice. */
export function killAll(): void {
  for (const child of children.splice(0)) child.kill('SIGKILL');
}

/** Moves this process (the load generator) to core 1, away from the targets. */
export function pinSelfToCore1(): void {
  if (HAS_TASKSET) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
}

/** Spawns a node script pinned to `core` (with `nodeArgs` before it); resolves on its "ready" line when `waitForReady`. */
export function spawnPinned(core: number, script: string, args: string[], env: Record<string, string> = {}, waitForReady = true, nodeArgs: string[] = []): Promise<{ child: ChildProcess; line: string }> {
  const argv = [...nodeArgs, script, ...args];
  const options = { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] as ['ignore', 'pipe', 'inherit'] };
  const child = HAS_TASKSET ? spawn('taskset', ['-c', String(core), process.execPath, ...argv], options) : spawn(process.execPath, argv, options);
  children.push(child);
  if (!waitForReady) {
    child.stdout!.resume();
    return Promise.resolve({ child, line: '' });
  }
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready'));
      if (line) resolve({ child, line });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** POSTs a chat request until it succeeds (the gateway is starting); fails if the gateway dies or takes 30 s. */
async function untilAnswered(url: string, child: ChildProcess, model: string): Promise<void> {
  const body = JSON.stringify({ model, stream: false, messages: [{ role: 'user', content: 'Say hello.' }] });
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway at ${url} exited (${child.exitCode ?? child.signalCode}) before answering`);
    if (performance.now() > deadline) throw new Error(`gateway at ${url} did not answer within 30 s`);
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body }).catch(() => undefined);
    const ok = res?.statusCode === 200;
    await res?.body.dump();
    if (ok) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Cold starts of a gateway entry on core 0, spawn to the first 200 on /v1/chat/completions (model
 * `bench`: the mock upstream); the last one is kept running and returned with the times.
 */
export async function startGateway(entry: string, env: Record<string, string>, port: number, starts: number, nodeArgs: string[] = []): Promise<{ endpoint: ChildProcess; url: string; times: number[] }> {
  const times: number[] = [];
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const started = performance.now();
    const g = await spawnPinned(0, entry, [], { ...env, SERVER_PORT: String(port) }, false, nodeArgs);
    await untilAnswered(url, g.child, 'bench');
    times.push(performance.now() - started);
    if (i === starts - 1) return { endpoint: g.child, url, times };
    g.child.kill('SIGKILL');
    await new Promise((r) => g.child.once('exit', r));
  }
}

/** A gateway config in `dir` on the mock upstream at `upstreamPort` (models bench*), Gemini off; its path. */
export function writeMockUpstreamConfig(dir: string, upstreamPort: number): string {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\ngemini:\n  enabled: false\ng4f:\n  base_url: http://127.0.0.1:${upstreamPort}/v1\n  models: ["bench*"]\n  discover_models: false\n`);
  return file;
}

/** The fake Gemini web app (bench/fake-gemini.ts) on core 1; its URL. */
export async function startFakeGemini(): Promise<string> {
  const { line } = await spawnPinned(1, path.join(path.dirname(new URL(import.meta.url).pathname), 'fake-gemini.js'), []);
  return line.split(' ')[1]!;
}

/** The Gemini model the bench config routes to the fake Gemini web app. */
export const BENCH_GEMINI_MODEL = 'gemini-3-flash';

/** The bench's gateway config in `dir`: the mock upstream (bench*, gpt-*) and the fake Gemini web app at `geminiUrl`; its path. */
export function writeBenchConfig(dir: string, upstreamPort: number, geminiUrl: string): string {
  writeFileSync(path.join(dir, 'gemini.json'), JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(
    file,
    `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\n` +
      `g4f:\n  base_url: http://127.0.0.1:${upstreamPort}/v1\n  models: ["bench*", "gpt-*"]\n` +
      loadRunGeminiYaml(path.join(dir, 'gemini.json'), geminiUrl, [BENCH_GEMINI_MODEL]),
  );
  return file;
}

/** Runs a bench script's main: exit 0, or kill what it spawned, print the failure and exit 1. */
export function runBench(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      killAll();
      process.stderr.write(`${name} failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}

// `npm run bench:floor`: how much of the gap to the minimal node:http proxy is the HTTP stack itself.
// Three targets on core 0, measured interleaved in one run (medians of BENCH_ROUNDS rounds): the
// node:http proxy, the same pass-through on Fastify + undici (stack-proxy.ts), and the gateway. The
// load generator and the mock upstream run on core 1.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TOKEN, median, throughput, type Throughput } from './measure.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HERE = path.dirname(new URL(import.meta.url).pathname);
const CHECKOUT = path.resolve(HERE, '../..');
const children: ChildProcess[] = [];

function spawnPinned(core: number, script: string, args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', String(core), process.execPath, script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`${url}/health`).then((r) => r.status, () => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gateway did not start');
}

async function main(): Promise<void> {
  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const base = 19_700 + Math.floor(Math.random() * 200);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-floor-'));
  try {
    await spawnPinned(1, path.join(HERE, 'mock-upstream.js'), [String(base)]);
    const proxy = await spawnPinned(0, path.join(HERE, 'minimal-proxy.js'), [String(base + 1), String(base)]);
    const stack = await spawnPinned(0, path.join(HERE, 'stack-proxy.js'), [String(base + 2), String(base)]);
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\ngemini:\n  enabled: false\ng4f:\n  base_url: http://127.0.0.1:${base}/v1\n  models: ["bench*"]\n`);
    const entry = ['dist/gateway.js', 'dist/main.js'].map((f) => path.join(CHECKOUT, f)).find((f) => existsSync(f))!;
    const gateway = spawn('taskset', ['-c', '0', process.execPath, entry], { env: { ...process.env, CONFIG_PATH: config, SERVER_HOST: '127.0.0.1', SERVER_PORT: String(base + 3), CONFIG_WATCH: 'false' }, stdio: 'ignore' });
    children.push(gateway);
    await waitHealthy(`http://127.0.0.1:${base + 3}`);
    const targets = [
      { name: 'node:http proxy', port: base + 1, pid: proxy.pid! },
      { name: 'Fastify + undici pass-through', port: base + 2, pid: stack.pid! },
      { name: 'gateway', port: base + 3, pid: gateway.pid! },
    ];
    const rows: string[] = [];
    for (const stream of [false, true]) {
      const body = { model: 'bench', stream, messages: [{ role: 'user', content: 'Say hello.' }] };
      const samples = new Map<string, Throughput[]>();
      for (const t of targets) await throughput(`http://127.0.0.1:${t.port}/v1/chat/completions`, body, 64, 1, t.pid);
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < targets.length; i++) {
          const t = targets[(i + round) % targets.length]!;
          const result = await throughput(`http://127.0.0.1:${t.port}/v1/chat/completions`, body, 64, SECONDS, t.pid);
          samples.set(t.name, [...(samples.get(t.name) ?? []), result]);
          process.stdout.write('.');
        }
      }
      const floor = median(samples.get(targets[0]!.name)!.map((s) => s.rps));
      for (const t of targets) {
        const rps = median(samples.get(t.name)!.map((s) => s.rps));
        const cpu = median(samples.get(t.name)!.map((s) => s.cpuUs));
        rows.push(`| chat passthrough, ${stream ? 'stream' : 'non-stream'} | ${t.name} | ${Math.round(rps)} | ${((100 * rps) / floor).toFixed(0)} % | ${cpu.toFixed(0)} |`);
      }
    }
    process.stdout.write(`\n\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${ROUNDS} rounds of ${SECONDS} s, c=64, medians\n\n| scenario | target | req/s | share of node:http proxy | CPU µs/req |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  for (const child of children) child.kill('SIGKILL');
  process.stderr.write(`bench:floor failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

// `npm run bench:floor`: how much of the gap to the minimal node:http proxy is the HTTP stack itself.
// Three targets on core 0, measured interleaved in one run (medians of BENCH_ROUNDS rounds): the
// node:http proxy, the same pass-through on Fastify + undici (stack-proxy.ts), and the gateway. The
// load generator and the mock upstream run on core 1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gatewayEntry } from './before-tree.js';
import { median, throughput, type Throughput } from './measure.js';
import { killAll, pinSelfToCore1, runBench, spawnPinned, startGateway, writeMockUpstreamConfig } from './processes.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HERE = path.dirname(new URL(import.meta.url).pathname);
const CHECKOUT = path.resolve(HERE, '../..');

async function main(): Promise<void> {
  pinSelfToCore1();
  const base = 19_700 + Math.floor(Math.random() * 200);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-floor-'));
  try {
    await spawnPinned(1, path.join(HERE, 'mock-upstream.js'), [String(base)]);
    const proxy = await spawnPinned(0, path.join(HERE, 'minimal-proxy.js'), [String(base + 1), String(base)]);
    const stack = await spawnPinned(0, path.join(HERE, 'stack-proxy.js'), [String(base + 2), String(base)]);
    const config = writeMockUpstreamConfig(dir, base);
    const gateway = await startGateway(gatewayEntry(CHECKOUT), { CONFIG_PATH: config, SERVER_HOST: '127.0.0.1', CONFIG_WATCH: 'false' }, base + 3, 1);
    const targets = [
      { name: 'node:http proxy', port: base + 1, pid: proxy.child.pid! },
      { name: 'Fastify + undici pass-through', port: base + 2, pid: stack.child.pid! },
      { name: 'gateway', port: base + 3, pid: gateway.endpoint.pid! },
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
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench('bench:floor', main);

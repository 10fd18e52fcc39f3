// `npm run bench:startup`: time from spawning the gateway to its first 200 on
// POST /v1/chat/completions, against the loopback mock upstream (Gemini off), for the bundle
// (dist/gateway.js) and the tsc output (dist/main.js), alternating; median of RUNS starts each, wall
// time and the gateway's own CPU time (on a busy machine wall time swings with the load, CPU less).
// Usage: node dist-bench/bench/startup.js [runs] [entry ...]   (after npm run build)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuMicros, median } from './measure.js';
import { killAll, pinSelfToCore1, runBench, spawnPinned, startGateway, writeMockUpstreamConfig } from './processes.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 7);
  const entries = process.argv.slice(3).length ? process.argv.slice(3) : ['dist/gateway.js', 'dist/main.js'];
  for (const entry of entries) if (!existsSync(entry)) throw new Error(`${entry} missing: npm run build`);
  pinSelfToCore1();
  const base = 19_900 + Math.floor(Math.random() * 100);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-startup-'));
  const wall = new Map<string, number[]>(entries.map((e) => [e, []]));
  const cpu = new Map<string, number[]>(entries.map((e) => [e, []]));
  try {
    await spawnPinned(1, path.join(HERE, 'mock-upstream.js'), [String(base)]);
    const config = writeMockUpstreamConfig(dir, base);
    const env = { CONFIG_PATH: config, SERVER_HOST: '127.0.0.1', CONFIG_WATCH: 'false', NODE_ENV: 'production' };
    for (let i = 0; i < runs; i++) {
      for (const entry of entries) {
        const started = await startGateway(path.resolve(entry), env, base + 1, 1);
        wall.get(entry)!.push(started.times[0]!);
        cpu.get(entry)!.push(cpuMicros(started.endpoint.pid!) / 1000);
        started.endpoint.kill('SIGKILL');
        await new Promise((r) => started.endpoint.once('exit', r));
      }
    }
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`node ${process.version}, spawn -> first 200 on POST /v1/chat/completions, median of ${runs}:`);
  for (const entry of entries) {
    const times = wall.get(entry)!;
    console.log(`  ${entry.padEnd(18)} ${median(times).toFixed(0)} ms, CPU ${median(cpu.get(entry)!).toFixed(0)} ms   (runs: ${times.map((t) => t.toFixed(0)).join(' ')})`);
  }
}

runBench('bench:startup', main);

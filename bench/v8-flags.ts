// The gateway under Gemini load (the bench's fake Gemini web app, c=64) with different V8 flags,
// side by side in one run: CPU per request (median of the rounds) and the peak RSS (VmHWM) at the
// end. What a smaller young generation (the Pi compose file's --max-semi-space-size) buys and costs.
//   npm run build && tsc -p tsconfig.bench.json && node dist-bench/bench/v8-flags.js ["<flags>" ...]
// Default flag sets: none, --max-semi-space-size=8, --max-semi-space-size=4. V8_ROUNDS (6), V8_SECONDS (3).
// V8_MODEL (default the Gemini model; `bench` for the mock OpenAI upstream) and V8_STREAM=1 pick the request.
// A set may carry environment variables for glibc's allocator too: "MALLOC_ARENA_MAX=2 --max-semi-space-size=8".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { median, memory, throughput } from './measure.js';
import { BENCH_GEMINI_MODEL, killAll, pinSelfToCore1, runBench, spawnPinned, startFakeGemini, startGateway, writeBenchConfig } from './processes.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const ENTRY = path.resolve(HERE, '../../dist/gateway.js');
const ROUNDS = Number(process.env.V8_ROUNDS ?? 6);
const SECONDS = Number(process.env.V8_SECONDS ?? 3);

async function main(): Promise<void> {
  const flagSets = process.argv.slice(2).length ? process.argv.slice(2) : ['', '--max-semi-space-size=8', '--max-semi-space-size=4'];
  pinSelfToCore1();
  const base = 19_500 + Math.floor(Math.random() * 100);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-v8-'));
  try {
    await spawnPinned(1, path.join(HERE, 'mock-upstream.js'), [String(base)]);
    const geminiUrl = await startFakeGemini();
    const env = { CONFIG_PATH: writeBenchConfig(dir, base, geminiUrl), SERVER_HOST: '127.0.0.1', CONFIG_WATCH: 'false' };
    const gateways = [];
    const idle: number[] = [];
    for (const [i, set] of flagSets.entries()) {
      const words = set.split(' ').filter(Boolean);
      const setEnv = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
      gateways.push(await startGateway(ENTRY, { ...env, ...setEnv }, base + 2 + i, 1, words.filter((w) => !/^[A-Z_]+=/.test(w))));
    }
    // Idle: one request served (start-up), then a second of rest, as in the load bench.
    await new Promise((r) => setTimeout(r, 1000));
    for (const g of gateways) idle.push(memory(g.endpoint.pid!).rss);
    const body = { model: process.env.V8_MODEL ?? BENCH_GEMINI_MODEL, stream: process.env.V8_STREAM === '1', messages: [{ role: 'user', content: 'Say hello.' }] };
    const cpu = flagSets.map((): number[] => []);
    // Warm-up: the first seconds under load run 1.5-2x slower (JIT, heap growth); then rounds with the order rotated.
    for (const g of gateways) await throughput(`${g.url}/v1/chat/completions`, body, 64, 8, g.endpoint.pid!);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < gateways.length; k++) {
        const i = (k + round) % gateways.length;
        const g = gateways[i]!;
        cpu[i]!.push((await throughput(`${g.url}/v1/chat/completions`, body, 64, SECONDS, g.endpoint.pid!)).cpuUs);
      }
    }
    console.log(`${body.model} ${body.stream ? 'stream' : 'non-stream'}, c=64, ${ROUNDS} rounds of ${SECONDS} s, node ${process.version}:`);
    for (const [i, flags] of flagSets.entries()) {
      const { peak } = memory(gateways[i]!.endpoint.pid!);
      console.log(`  ${(flags || '(no flags)').padEnd(32)} CPU ${median(cpu[i]!).toFixed(0)} µs/request (rounds: ${cpu[i]!.map((c) => c.toFixed(0)).join(' ')}), idle RSS ${idle[i]!.toFixed(1)} MiB, peak RSS ${peak.toFixed(1)} MiB`);
    }
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench('bench v8-flags', main);

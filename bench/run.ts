// `npm run bench`: the gateway against a minimal node:http pass-through proxy (the floor any Node
// gateway pays) and, with BENCH_BEFORE=<git ref>, against that ref's gateway, all in one run: targets
// and scenarios interleaved per round, medians (two runs on a shared machine are not comparable).
// Writes the tables to docs/PERFORMANCE.md between the bench markers.
// Knobs: BENCH_SECONDS (per cell), BENCH_ROUNDS, BENCH_ONLY (substrings of scenario names, comma
// separated; "paced" for the paced-chunk runs, which a filter otherwise skips), BENCH_BEFORE (git ref).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBefore, gatewayEntry, type BeforeTree } from './before-tree.js';
import { latency, median, memory, pacedChunkCpu, throughput, type Latency, type Throughput } from './measure.js';
import { BENCH_GEMINI_MODEL, HAS_TASKSET, killAll, pinSelfToCore1, spawnPinned, startFakeGemini, startGateway, writeBenchConfig } from './processes.js';
import { render, writeSection, type Cell, type Results, type Target } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const BEFORE = process.env.BENCH_BEFORE?.trim() || undefined;
const HERE = path.dirname(new URL(import.meta.url).pathname);
const CHECKOUT = path.resolve(HERE, '../..');
const PACED_CHUNKS = 100;
const PACED_GAP_MS = 10;
const PACED_STREAMS = 32;
const STARTS = 5;

let beforeTree: BeforeTree | undefined;

/** Kills what this run started and removes the before worktree; safe to call twice. */
function cleanup(): void {
  killAll();
  beforeTree?.remove();
  beforeTree = undefined;
}

const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } } }];
const chat = (model: string, stream: boolean, content = 'Say hello.', tools = false) => ({ model, stream, messages: [{ role: 'user', content }], ...(tools ? { tools: TOOLS } : {}) });
const anthropic = (stream: boolean) => ({ model: 'bench', stream, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }] });
const responses = (stream: boolean) => ({ model: 'bench', stream, input: 'Say hello.' });
const GEMINI = BENCH_GEMINI_MODEL;

interface Scenario {
  key: string;
  path: string;
  body: object;
  /** The scenario whose proxy throughput is the floor (itself when the proxy can serve it). */
  floor: string;
  proxy: boolean;
}

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const stream of [false, true]) {
    const kind = stream ? 'stream' : 'non-stream';
    const pass = `chat passthrough, ${kind}`;
    list.push({ key: pass, path: '/v1/chat/completions', body: chat('bench', stream), floor: pass, proxy: true });
    const full = `chat full path, ${kind}`;
    list.push({ key: full, path: '/v1/chat/completions', body: chat(stream ? 'bench-repair' : 'bench-repair-json', stream, 'Weather in Paris?', true), floor: full, proxy: true });
    list.push({ key: `anthropic -> openai, ${kind}`, path: '/v1/messages', body: anthropic(stream), floor: pass, proxy: false });
    list.push({ key: `responses -> openai, ${kind}`, path: '/v1/responses', body: responses(stream), floor: pass, proxy: false });
    list.push({ key: `gemini web (fake), ${kind}`, path: '/v1/chat/completions', body: chat(GEMINI, stream), floor: pass, proxy: false });
  }
  // A filtered run keeps the floors its ratios need.
  if (ONLY.length === 0) return list;
  const wanted = new Set(list.filter((s) => ONLY.some((o) => s.key.includes(o))).flatMap((s) => [s.key, s.floor]));
  return list.filter((s) => wanted.has(s.key));
}

function pacedScenarios(): Array<{ key: string; body: object; proxy: boolean }> {
  const marker = `bench-paced-${PACED_CHUNKS}-${PACED_GAP_MS}`;
  const list = [
    { key: 'chat passthrough', body: chat(marker, true), proxy: true },
    { key: 'gemini text', body: chat(GEMINI, true, `${marker} Say hello.`), proxy: false },
    { key: 'gemini tool call', body: chat(GEMINI, true, `bench-toolcall ${marker} Weather in Paris?`, true), proxy: false },
  ];
  return ONLY.length === 0 || ONLY.includes('paced') ? list : [];
}

interface Endpoint {
  name: Target;
  url: string;
  pid: number;
}


/**
 * Cells that failed (an older ref may lack a feature, an upstream may stumble): reported and left
 * out of the tables rather than ending the run and losing every other figure.
 */
const failed = new Map<string, string>();
function fail(key: string, error: unknown): void {
  const reason = (error as Error).message ?? String(error);
  failed.set(key, reason.slice(0, 200));
  process.stderr.write(`\n${key} failed, left out: ${reason}\n`);
}

/** Rotates a list by `n`, so no target or scenario always runs first (or right after another). */
const rotate = <T>(xs: T[], n: number): T[] => xs.map((_, i) => xs[(i + n) % xs.length]!);

async function measureScenarios(list: Scenario[], endpoints: Endpoint[]): Promise<Results['scenarios']> {
  const samples = new Map<string, { c1: Latency[]; c64: Throughput[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? list : [...list].reverse();
    for (const s of order) {
      for (const e of rotate(endpoints, round)) {
        if (e.name === 'proxy' && !s.proxy) continue;
        const key = `${e.name}|${s.key}`;
        if (failed.has(key)) continue;
        try {
          const c1 = await latency(e.url + s.path, s.body, SECONDS);
          const c64 = await throughput(e.url + s.path, s.body, 64, SECONDS, e.pid);
          const entry = samples.get(key) ?? { c1: [], c64: [] };
          entry.c1.push(c1);
          entry.c64.push(c64);
          samples.set(key, entry);
          process.stdout.write('.');
        } catch (error) {
          fail(key, error);
          samples.delete(key);
        }
      }
    }
  }
  return list.map((s) => {
    const cells: Partial<Record<Target, Cell>> = {};
    for (const e of endpoints) {
      const entry = samples.get(`${e.name}|${s.key}`);
      if (!entry) continue;
      const m = <T>(xs: T[], f: (x: T) => number) => median(xs.map(f));
      cells[e.name] = { rps: m(entry.c64, (x) => x.rps), cpuUs: m(entry.c64, (x) => x.cpuUs), p50: m(entry.c1, (x) => x.p50), p99: m(entry.c1, (x) => x.p99), ttfb50: m(entry.c1, (x) => x.ttfb50) };
      // The share of the proxy round by round (the floor's proxy cell was measured in the same rounds).
      const floor = samples.get(`proxy|${s.floor}`)?.c64;
      if (floor?.length === entry.c64.length) cells[e.name]!.ratio = median(entry.c64.map((x, i) => x.rps / floor[i]!.rps));
    }
    return { key: s.key, floor: s.floor, cells };
  });
}

async function measurePaced(endpoints: Endpoint[]): Promise<Results['paced']> {
  const list = pacedScenarios();
  const samples = new Map<string, number[]>();
  // A stream lasts ~1 s; at the default 3 s per cell, two per connection (6400 chunks) keep the
  // 10 ms tick resolution of /proc's CPU counters under a few per cent.
  const perConnection = Math.max(1, Math.round(SECONDS / 1.5));
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of list) {
      for (const e of rotate(endpoints, round)) {
        if (e.name === 'proxy' && !p.proxy) continue;
        const key = `${e.name}|paced ${p.key}`;
        if (failed.has(key)) continue;
        try {
          samples.set(key, [...(samples.get(key) ?? []), await pacedChunkCpu(`${e.url}/v1/chat/completions`, p.body, PACED_CHUNKS, PACED_STREAMS, perConnection, e.pid)]);
          process.stdout.write('.');
        } catch (error) {
          fail(key, error);
          samples.delete(key);
        }
      }
    }
  }
  return list.map((p) => ({ key: p.key, cells: Object.fromEntries(endpoints.filter((e) => samples.has(`${e.name}|paced ${p.key}`)).map((e) => [e.name, median(samples.get(`${e.name}|paced ${p.key}`)!)])) }));
}

/** Sequential requests through every scenario, so the first measured cell does not pay JIT warm-up. */
async function warmUp(list: Scenario[], endpoints: Endpoint[]): Promise<void> {
  for (const e of endpoints) for (const s of list) if (e.name !== 'proxy' || s.proxy) await latency(e.url + s.path, s.body, 0.3);
}

async function main(): Promise<void> {
  // The load generator runs in this process: core 1, away from the targets on core 0.
  pinSelfToCore1();
  if (BEFORE) {
    process.stdout.write(`building ${BEFORE} in a temporary worktree...\n`);
    beforeTree = buildBefore(BEFORE, CHECKOUT);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-bench-'));
  try {
    const base = 19_100 + Math.floor(Math.random() * 500);
    const upstreamPort = base;
    const proxyPort = base + 1;
    await spawnPinned(1, path.join(HERE, 'mock-upstream.js'), [String(upstreamPort)]);
    const geminiUrl = await startFakeGemini();
    const proxy = await spawnPinned(0, path.join(HERE, 'minimal-proxy.js'), [String(proxyPort), String(upstreamPort)]);
    const env = { CONFIG_PATH: writeBenchConfig(dir, upstreamPort, geminiUrl), SERVER_HOST: '127.0.0.1', CONFIG_WATCH: 'false' };

    // Cold starts, before and after alternating; the last of each stays up for the load runs.
    const startupMs: Results['startupMs'] = {};
    const gateway = await startGateway(gatewayEntry(CHECKOUT), env, base + 2, STARTS);
    startupMs.gateway = median(gateway.times);
    let before: Awaited<ReturnType<typeof startGateway>> | undefined;
    if (beforeTree) {
      before = await startGateway(beforeTree.entry, env, base + 3, STARTS);
      startupMs.before = median(before.times);
    }
    const endpoints: Endpoint[] = [
      ...(before ? [{ name: 'before' as const, url: before.url, pid: before.endpoint.pid! }] : []),
      { name: 'gateway', url: gateway.url, pid: gateway.endpoint.pid! },
      { name: 'proxy', url: `http://127.0.0.1:${proxyPort}`, pid: proxy.child.pid! },
    ];
    await new Promise((r) => setTimeout(r, 1000));
    const idleMiB = Object.fromEntries(endpoints.map((e) => [e.name, memory(e.pid).rss]));

    const list = scenarios();
    await warmUp(list, endpoints);
    const scenarioResults = await measureScenarios(list, endpoints);
    const paced = await measurePaced(endpoints);
    const peakMiB = Object.fromEntries(endpoints.map((e) => [e.name, memory(e.pid).peak]));

    const command = `${BEFORE ? `BENCH_BEFORE=${BEFORE} ` : ''}${process.env.BENCH_SECONDS ? `BENCH_SECONDS=${SECONDS} ` : ''}${process.env.BENCH_ROUNDS ? `BENCH_ROUNDS=${ROUNDS} ` : ''}${ONLY.length ? `BENCH_ONLY=${ONLY.join(',')} ` : ''}npm run bench`;
    const results: Results = {
      scenarios: scenarioResults,
      paced,
      startupMs,
      idleMiB,
      peakMiB,
      failures: [...failed].map(([key, reason]) => `${key.replace('|', ': ')}: ${reason}`),
      meta: {
        date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        node: process.version,
        cpu: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU',
        command,
        rounds: ROUNDS,
        seconds: SECONDS,
        pinned: HAS_TASKSET,
        ...(beforeTree ? { before: `\`${beforeTree.ref}\` (${beforeTree.commit})` } : {}),
      },
    };
    const section = render(results);
    writeSection(path.join(CHECKOUT, 'docs/PERFORMANCE.md'), section);
    process.stdout.write(`\n\n${section}\n`);
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    cleanup();
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

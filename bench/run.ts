// `npm run bench`: the gateway against a minimal Node pass-through proxy (the floor any Node gateway
// pays), measured side by side in one run: alternating order, several rounds, medians. The system
// under test (gateway or proxy) is pinned to core 0, the load generator and the fake upstreams to
// core 1. Writes docs/PERFORMANCE.md.
import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { request } from 'undici';
import { PSID, PSIDTS } from '../test/fakes/gemini-web.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HAS_TASKSET = (() => {
  try {
    execSync('taskset -c 0 true', { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const HERE = path.dirname(new URL(import.meta.url).pathname);
const TOKEN = 'bench-token-0123456789abcdef';

function start(core: number, script: string, args: string[], env: Record<string, string> = {}, waitForLine = true): Promise<{ child: ChildProcess; line: string }> {
  const command = HAS_TASKSET ? 'taskset' : process.execPath;
  const argv = HAS_TASKSET ? ['-c', String(core), process.execPath, script, ...args] : [script, ...args];
  const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (!waitForLine) return Promise.resolve({ child, line: '' });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready') || l.includes('gateway listening'));
      if (line) resolve({ child, line });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** utime + stime of a process, in microseconds (from /proc; clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  cpuUs: number;
}

async function load(url: string, body: object, connections: number, pid: number, headers: Record<string, string> = {}): Promise<Load> {
  const cpuBefore = cpuMicros(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: JSON.stringify(body),
  });
  const cpu = cpuMicros(pid) - cpuBefore;
  const requests = result.requests.total;
  const errors = result.errors + result.non2xx;
  if (errors > 0) throw new Error(`${url}: ${errors} failed requests`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests, cpuUs: requests ? cpu / requests : 0 };
}

/** Time to the first body byte, median of `n` sequential streaming requests (ms). */
async function ttfb(url: string, body: object, n = 100): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    for await (const _chunk of res.body) {
      times.push(performance.now() - started);
      break;
    }
    await res.body.dump();
  }
  return median(times);
}

const chat = (model: string, stream: boolean) => ({ model, stream, messages: [{ role: 'user', content: 'Say hello.' }] });
const anthropic = (model: string, stream: boolean) => ({ model, stream, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }] });
const responses = (model: string, stream: boolean) => ({ model, stream, input: 'Say hello.' });

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gw-bench-'));
  const upstreamPort = 19_100 + Math.floor(Math.random() * 500);
  const proxyPort = upstreamPort + 1;
  const upstream = await start(1, path.join(HERE, 'mock-upstream.js'), [String(upstreamPort)]);
  const gemini = await start(1, path.join(HERE, 'fake-gemini.js'), []);
  const geminiUrl = gemini.line.split(' ')[1]!;
  const proxy = await start(0, path.join(HERE, 'minimal-proxy.js'), [String(proxyPort), String(upstreamPort)]);

  await writeFile(path.join(dir, 'gemini.json'), JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }));
  await writeFile(
    path.join(dir, 'config.yaml'),
    `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\n` +
      `g4f:\n  base_url: http://127.0.0.1:${upstreamPort}/v1\n  models: ["bench*", "gpt-*"]\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  models: [gemini-3-flash]\n  auto_refresh: false\n  conversations:\n    reuse: false\n` +
      `  endpoints:\n    gemini: ${geminiUrl}\n    accounts: ${geminiUrl}\n    upload: ${geminiUrl}\n    google: ${geminiUrl}\n`,
  );
  const gatewayMain = path.resolve(HERE, '../../dist/main.js');
  const gatewayEnv = { CONFIG_PATH: path.join(dir, 'config.yaml'), SERVER_HOST: '127.0.0.1', CONFIG_WATCH: 'false' };

  // Start-up time to the first successful model request (3 cold starts).
  const startups: number[] = [];
  let gateway!: { child: ChildProcess; line: string };
  let gatewayPort = 0;
  for (let i = 0; i < 3; i++) {
    const port = proxyPort + 10 + i;
    const started = performance.now();
    const g = await start(0, gatewayMain, [], { ...gatewayEnv, SERVER_PORT: String(port) }, false);
    for (;;) {
      const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(chat('bench', false)) }).catch(() => undefined);
      if (res?.statusCode === 200) {
        await res.body.dump();
        break;
      }
      await res?.body.dump();
    }
    startups.push(performance.now() - started);
    if (i < 2) {
      g.child.kill('SIGKILL');
    } else {
      gateway = g;
      gatewayPort = port;
    }
  }
  const gw = `http://127.0.0.1:${gatewayPort}`;
  const px = `http://127.0.0.1:${proxyPort}`;
  const gwPid = gateway.child.pid!;
  const pxPid = proxy.child.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = memory(gwPid);

  // Warm-up.
  await load(`${gw}/v1/chat/completions`, chat('bench', false), 16, gwPid);
  await load(`${px}/v1/chat/completions`, chat('bench', false), 16, pxPid);
  await load(`${gw}/v1/messages`, anthropic('bench', true), 16, gwPid);

  type Scenario = { name: string; target: 'proxy' | 'gateway'; url: string; body: object; pid: number };
  const scenarios: Scenario[] = [];
  for (const stream of [false, true]) {
    const kind = stream ? 'stream' : 'non-stream';
    scenarios.push({ name: `chat passthrough, ${kind}`, target: 'proxy', url: `${px}/v1/chat/completions`, body: chat('bench', stream), pid: pxPid });
    scenarios.push({ name: `chat passthrough, ${kind}`, target: 'gateway', url: `${gw}/v1/chat/completions`, body: chat('bench', stream), pid: gwPid });
    scenarios.push({ name: `anthropic -> openai, ${kind}`, target: 'gateway', url: `${gw}/v1/messages`, body: anthropic('bench', stream), pid: gwPid });
    scenarios.push({ name: `responses -> openai, ${kind}`, target: 'gateway', url: `${gw}/v1/responses`, body: responses('bench', stream), pid: gwPid });
    scenarios.push({ name: `gemini web (fake), ${kind}`, target: 'gateway', url: `${gw}/v1/chat/completions`, body: chat('gemini-3-flash', stream), pid: gwPid });
  }

  const results = new Map<string, { c1: Load[]; c64: Load[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const s of order) {
      const key = `${s.target}|${s.name}`;
      const entry = results.get(key) ?? { c1: [], c64: [] };
      entry.c1.push(await load(s.url, s.body, 1, s.pid));
      entry.c64.push(await load(s.url, s.body, 64, s.pid));
      results.set(key, entry);
      process.stdout.write('.');
    }
  }
  const peakAfterLoad = memory(gwPid).peak;

  // Paced streams: 100 chunks, 10 ms apart; CPU per chunk = CPU of the run / chunks delivered.
  const paced = chat('bench-paced-100-10', true);
  const chunkCpu = async (url: string, pid: number) => {
    const before = cpuMicros(pid);
    const result = await autocannon({ url, method: 'POST', connections: 32, duration: 6, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(paced) });
    return (cpuMicros(pid) - before) / Math.max(1, result.requests.total * 100);
  };
  const chunkGateway: number[] = [];
  const chunkProxy: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    chunkProxy.push(await chunkCpu(`${px}/v1/chat/completions`, pxPid));
    chunkGateway.push(await chunkCpu(`${gw}/v1/chat/completions`, gwPid));
  }

  // Time to first byte added by the gateway (sequential streaming requests).
  const ttfbProxy: number[] = [];
  const ttfbGateway: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ttfbProxy.push(await ttfb(`${px}/v1/chat/completions`, chat('bench', true)));
    ttfbGateway.push(await ttfb(`${gw}/v1/chat/completions`, chat('bench', true)));
  }
  const geminiTtfd = await ttfb(`${gw}/v1/chat/completions`, chat('gemini-3-flash', true), 50);

  for (const p of [gateway.child, proxy.child, upstream.child, gemini.child]) p.kill('SIGTERM');

  const m = (key: string, c: 'c1' | 'c64', f: keyof Load) => median(results.get(key)![c].map((l) => l[f]));
  const floor = (kind: string) => m(`proxy|chat passthrough, ${kind}`, 'c64', 'rps');
  const rows: string[] = [];
  for (const s of scenarios) {
    const key = `${s.target}|${s.name}`;
    const kind = s.name.endsWith('non-stream') ? 'non-stream' : 'stream';
    const rps = m(key, 'c64', 'rps');
    const ratio = s.target === 'proxy' ? '1.00 (floor)' : `${(rps / floor(kind)).toFixed(2)}`;
    rows.push(`| ${s.target} | ${s.name} | ${m(key, 'c1', 'p50').toFixed(2)} | ${m(key, 'c1', 'p99').toFixed(2)} | ${Math.round(rps)} | ${ratio} | ${Math.round(m(key, 'c64', 'cpuUs'))} |`);
  }
  const cpuProxy = m('proxy|chat passthrough, non-stream', 'c64', 'cpuUs');
  const cpuGateway = m('gateway|chat passthrough, non-stream', 'c64', 'cpuUs');
  const summary = [
    ['throughput, passthrough non-stream (vs proxy)', `${(m('gateway|chat passthrough, non-stream', 'c64', 'rps') / floor('non-stream') * 100).toFixed(0)} %`, '>= 50 %'],
    ['throughput, passthrough stream (vs proxy)', `${(m('gateway|chat passthrough, stream', 'c64', 'rps') / floor('stream') * 100).toFixed(0)} %`, '>= 50 %'],
    ['throughput, Anthropic translated non-stream / stream', `${(m('gateway|anthropic -> openai, non-stream', 'c64', 'rps') / floor('non-stream') * 100).toFixed(0)} % / ${(m('gateway|anthropic -> openai, stream', 'c64', 'rps') / floor('stream') * 100).toFixed(0)} %`, '>= 40 %'],
    ['throughput, Responses translated non-stream / stream', `${(m('gateway|responses -> openai, non-stream', 'c64', 'rps') / floor('non-stream') * 100).toFixed(0)} % / ${(m('gateway|responses -> openai, stream', 'c64', 'rps') / floor('stream') * 100).toFixed(0)} %`, '>= 40 %'],
    ['time to first byte added (stream, c=1)', `${(median(ttfbGateway) - median(ttfbProxy)).toFixed(2)} ms (gateway ${median(ttfbGateway).toFixed(2)}, proxy ${median(ttfbProxy).toFixed(2)})`, '<= 0.5 ms'],
    ['CPU per request (non-stream passthrough, c=64)', `${Math.round(cpuGateway)} µs (proxy ${Math.round(cpuProxy)} µs)`, '<= 200 µs'],
    ['CPU per paced stream chunk', `${median(chunkGateway).toFixed(1)} µs (proxy ${median(chunkProxy).toFixed(1)} µs)`, '<= 60 µs'],
    ['RSS idle', `${idle.rss.toFixed(1)} MiB`, '<= 60 MiB'],
    ['RSS peak (after all runs incl. c=64 streaming)', `${peakAfterLoad.toFixed(1)} MiB`, '<= 150 MiB'],
    ['start-up to first successful request', `${Math.round(median(startups))} ms`, '<= 300 ms'],
    ['Gemini web path (fake): time to first delta, c=1', `${geminiTtfd.toFixed(2)} ms`, ''],
  ];

  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const table = [
    `## Load benchmark (\`npm run bench\`)`,
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}: ${cpuModel}, Node ${process.version}, ${ROUNDS} rounds of ${SECONDS} s per cell, order alternating, medians.`,
    `${HAS_TASKSET ? 'Gateway / proxy pinned to core 0, load generator (autocannon) and fake upstreams to core 1.' : 'taskset not found: processes were not pinned.'}`,
    '',
    '| target | scenario | c=1 p50 ms | c=1 p99 ms | c=64 req/s | ratio to proxy | CPU µs/req |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| measure | result | target |',
    '|---|---|---|',
    ...summary.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
    '',
    'Streams are 10 chunks from an instant upstream; the paced-chunk figure uses 100 chunks 10 ms apart (32 concurrent streams).',
    'The Gemini rows go through the fake Gemini web app (protocol framing, snapshots, reconciliation), not Google.',
  ].join('\n');

  const doc = path.resolve(HERE, '../../docs/PERFORMANCE.md');
  const current = await readFile(doc, 'utf8');
  const start2 = current.indexOf('## Load benchmark');
  const next = start2 >= 0 ? current.indexOf('\n## ', start2 + 5) : -1;
  const updated = start2 < 0 ? `${current.trimEnd()}\n\n${table}\n` : `${current.slice(0, start2)}${table}\n${next >= 0 ? current.slice(next) : ''}`;
  await writeFile(doc, updated);
  process.stdout.write(`\n${table}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

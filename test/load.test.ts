// Load and leaks, against the real process: 256 concurrent streams for 60 s (after 20 s of warm-up at
// the same load) through the gateway to a paced fake upstream, while the config reloads every second
// and the Gemini cookie rotates every second (with Gemini traffic too). Zero failed requests; no leak:
// every second the gateway runs a full GC and reports the memory it retains (test/helpers/gc-probe.mjs),
// and the trend of that over the requests served (a Theil–Sen slope, robust to a few odd samples on a
// busy machine) must stay under LEAK_LIMIT bytes per request. RSS is reported, not judged: it moves
// with every collection and with whatever else runs on the machine. The event-loop delay p99 is reported.
// LOAD_LEAK_BYTES=N makes the gateway retain N bytes per request, to see this test catch a leak.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { FakeUpstream, rawChunk, usageChunk } from './fakes/openai-upstream.js';
import { spawnGatewayProcess, waitFor } from './helpers/gateway.js';
import { theilSen } from './helpers/trend.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const WARMUP = Number(process.env.LOAD_WARMUP_SECONDS ?? 20);
const LEAK_BYTES = Number(process.env.LOAD_LEAK_BYTES ?? 0);
// Retained memory may grow this much per stream served before it counts as a leak. Measured on a
// shared 2-core machine (load average ~5): 3.4 without a leak over the full 60 s; 1325 with a
// deliberate leak of 1 KB per request (LOAD_LEAK_BYTES=1024; Gemini requests leak too). A shortened
// run (LOAD_SECONDS=20, 5 s warm-up) still has caches filling: 180 without a leak, 1070 with it.
const LEAK_LIMIT = 512;
const GC_PROBE = pathToFileURL(fileURLToPath(new URL('./helpers/gc-probe.mjs', import.meta.url))).href;
const TOKEN = 'load-test-token-0123456789';
let dir: string;
let upstream: FakeUpstream;
let gemini: FakeGemini;
let child: ChildProcess;
let url: string;

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function config(comment: string): string {
  return (
    `# ${comment}\nauth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\n` +
    `g4f:\n  base_url: ${upstream.url}/v1\n  models: ["paced-*"]\n` +
    `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  models: [gemini-3-flash]\n  auto_refresh: false\n  conversations:\n    reuse: false\n` +
    `  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n`
  );
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gw-load-'));
  upstream = await new FakeUpstream().start();
  // 20 chunks 50 ms apart: each stream lasts about a second.
  upstream.handler = () => ({ sse: [...Array.from({ length: 20 }, (_, i) => [rawChunk({ content: `t${i} ` }), { delayMs: 50 }]).flat(), rawChunk({}, 'stop'), usageChunk()] });
  gemini = await new FakeGemini().start();
  gemini.reply = () => ({ snapshots: [{ text: 'Hello' }], final: { text: 'Hello there.' } });
  await writeFile(path.join(dir, 'gemini.json'), JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }));
  await writeFile(path.join(dir, 'config.yaml'), config('start'));
  // Small semi-spaces as in docker-compose.rpi.yml: V8 otherwise grows the young generation under this
  // allocation rate, which reads as RSS growth between 1k and 10k requests without being a leak.
  const probeEnv: Record<string, string> = { GW_GC_PROBE_FILE: path.join(dir, 'gc.log') };
  if (LEAK_BYTES > 0) probeEnv.GW_TEST_LEAK_BYTES = String(LEAK_BYTES);
  ({ child, url } = await spawnGatewayProcess(
    path.join(dir, 'config.yaml'),
    20_000 + Math.floor(Math.random() * 5000),
    `--max-semi-space-size=4 --expose-gc --import ${GC_PROBE}`,
    probeEnv,
  ));
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await upstream?.stop();
  await gemini?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('load and leaks', () => {
  it(`256 concurrent streams for ${SECONDS} s with reloads and cookie rotations: no failure, flat memory`, async () => {
    const pid = child.pid!;
    let completed = 0;
    // Requests served when each GC probe was asked for (its answers arrive in the same order).
    const probedAt: number[] = [];
    let probing: NodeJS.Timeout | undefined;
    let reloads = 0;
    let rotations = 0;
    const body = (model: string) => JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'go' }] });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };

    const samples: string[] = [];
    const sampler = setInterval(() => samples.push(`${completed}:${rss(pid).toFixed(0)}`), 5000);
    const churn = setInterval(async () => {
      // Config reload (an editor-style rename) and a cookie rotation, every second.
      const temp = path.join(dir, `config.yaml.${reloads}`);
      await writeFile(temp, config(`reload ${reloads++}`));
      await rename(temp, path.join(dir, 'config.yaml'));
      const r = await fetch(`${url}/admin/cookies/rotate`, { method: 'POST', headers, body: '{}' }).catch(() => undefined);
      if (r?.ok) rotations++;
    }, 1000);

    const run = (options: autocannon.Options, onResponse?: () => void) =>
      new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
        if (onResponse) instance.on('response', onResponse);
      });
    // Warm-up at the same load (JIT, connection pools, V8 sizing its heap), then the measured run:
    // what a leak shows as is growth once the process has settled.
    await Promise.all([
      run({ url: `${url}/v1/chat/completions`, method: 'POST', connections: 256, duration: WARMUP, headers, body: body('paced-model') }),
      run({ url: `${url}/v1/chat/completions`, method: 'POST', connections: 8, duration: WARMUP, headers, body: body('gemini-3-flash') }),
    ]);
    const streams = run({ url: `${url}/v1/chat/completions`, method: 'POST', connections: 256, duration: SECONDS, headers, body: body('paced-model') }, () => {
      completed++;
    });
    probing = setInterval(() => {
      probedAt.push(completed);
      process.kill(pid, 'SIGUSR2');
    }, 1000);
    const geminiLoad = run({ url: `${url}/v1/chat/completions`, method: 'POST', connections: 8, duration: SECONDS, headers, body: body('gemini-3-flash') });
    const [result, geminiResult] = await Promise.all([streams, geminiLoad]);
    clearInterval(probing);
    clearInterval(churn);
    clearInterval(sampler);

    // autocannon cuts the streams still open when its time is up: the gateway must notice each one.
    const scrape = async () => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    // The event-loop delay histogram restarts at each scrape: read it from the first one.
    const underLoad = await scrape();
    // Retained memory (heap + external after a full GC) against streams served. The first fifth of
    // the samples is skipped: bounded caches (request ring, TTL maps, pools) are still filling there.
    const probes = (await readFile(path.join(dir, 'gc.log'), 'utf8')).trim().split('\n').map((line) => line.split(' ').map(Number) as [number, number, number]);
    const skip = Math.max(2, Math.floor(probedAt.length / 5));
    const points = probes.slice(skip, probedAt.length).map(([heap, external], i) => ({ x: probedAt[i + skip]!, y: heap + external }));
    const slope = theilSen(points);
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const retained = points.map((p) => `${p.x}:${mib(p.y)}`).join(' ');
    await waitFor(async () => /^gateway_inflight_streams 0$/m.test(await scrape()), 3000, 100).catch(() => undefined);
    const metrics = await scrape();
    if (!/gateway_inflight_streams/.test(metrics)) throw new Error(`metrics: ${metrics.slice(0, 300)}`);
    const lagP99 = Number(/^gateway_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(underLoad)?.[1] ?? NaN) * 1000;
    const inflight = Number(/^gateway_inflight_streams (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    // eslint-disable-next-line no-console
    console.log(
      `load: ${result.requests.total} streams (${result.requests.average}/s) + ${geminiResult.requests.total} Gemini requests in ${SECONDS} s after ${WARMUP} s of warm-up; ` +
        `errors ${result.errors + result.non2xx + geminiResult.errors + geminiResult.non2xx}; reloads ${reloads}, rotations ${rotations}; ` +
        `retained after GC: ${slope.toFixed(1)} bytes per request (Theil–Sen over ${points.length} samples, limit ${LEAK_LIMIT}${LEAK_BYTES ? `; deliberate leak ${LEAK_BYTES} bytes per request` : ''}; requests:MiB ${retained}); ` +
        `RSS (streams:MiB every 5 s: ${samples.join(' ')}); event-loop delay p99 ${lagP99.toFixed(1)} ms; latency p99 ${result.latency.p99} ms`,
    );
    expect(result.errors + result.non2xx).toBe(0);
    expect(geminiResult.errors + geminiResult.non2xx).toBe(0);
    expect(geminiResult.requests.total).toBeGreaterThan(100);
    expect(reloads).toBeGreaterThanOrEqual(SECONDS - 2);
    expect(rotations).toBeGreaterThanOrEqual(SECONDS - 5);
    expect(inflight).toBe(0);
    expect(points.length).toBeGreaterThanOrEqual(Math.min(10, Math.floor(SECONDS * 0.7)));
    expect(slope).toBeLessThan(LEAK_LIMIT);
  }, (WARMUP + SECONDS + 60) * 1000);
});

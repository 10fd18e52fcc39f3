// Load and leaks, against the real process: 256 concurrent streams for 60 s (after 20 s of warm-up at
// the same load) through the gateway to a paced fake upstream, while the config reloads every second
// and the Gemini cookie rotates every second (with Gemini traffic too). Zero failed requests; memory flat (RSS after 10,000 requests
// within 10 % of RSS after 1,000); the event-loop delay p99 is reported.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { FakeUpstream, rawChunk, usageChunk } from './fakes/openai-upstream.js';
import { spawnGatewayProcess, waitFor } from './helpers/gateway.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const WARMUP = Number(process.env.LOAD_WARMUP_SECONDS ?? 20);
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
  ({ child, url } = await spawnGatewayProcess(path.join(dir, 'config.yaml'), 20_000 + Math.floor(Math.random() * 5000), '--max-semi-space-size=4'));
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
    // RSS swings by ~10 MiB with each GC: "after N requests" is the median of readings taken every
    // 50 responses over the next 500, not one reading that may land on either side of a collection.
    const near1k: number[] = [];
    const near10k: number[] = [];
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
      if (completed % 50 === 0 && completed >= 1000 && completed < 1500) near1k.push(rss(pid));
      if (completed % 50 === 0 && completed >= 10_000 && completed < 10_500) near10k.push(rss(pid));
    });
    const geminiLoad = run({ url: `${url}/v1/chat/completions`, method: 'POST', connections: 8, duration: SECONDS, headers, body: body('gemini-3-flash') });
    const [result, geminiResult] = await Promise.all([streams, geminiLoad]);
    clearInterval(churn);
    clearInterval(sampler);

    // autocannon cuts the streams still open when its time is up: the gateway must notice each one.
    const scrape = async () => (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    // The event-loop delay histogram restarts at each scrape: read it from the first one.
    const underLoad = await scrape();
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    const rssAt1k = median(near1k);
    const rssAt10k = median(near10k);
    await waitFor(async () => /^gateway_inflight_streams 0$/m.test(await scrape()), 3000, 100).catch(() => undefined);
    const metrics = await scrape();
    if (!/gateway_inflight_streams/.test(metrics)) throw new Error(`metrics: ${metrics.slice(0, 300)}`);
    const lagP99 = Number(/^gateway_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(underLoad)?.[1] ?? NaN) * 1000;
    const inflight = Number(/^gateway_inflight_streams (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    // eslint-disable-next-line no-console
    console.log(
      `load: ${result.requests.total} streams (${result.requests.average}/s) + ${geminiResult.requests.total} Gemini requests in ${SECONDS} s after ${WARMUP} s of warm-up; ` +
        `errors ${result.errors + result.non2xx + geminiResult.errors + geminiResult.non2xx}; reloads ${reloads}, rotations ${rotations}; ` +
        `RSS after 1k ${rssAt1k.toFixed(1)} MiB, after 10k ${rssAt10k.toFixed(1)} MiB (streams:MiB every 5 s: ${samples.join(' ')}); event-loop delay p99 ${lagP99.toFixed(1)} ms; latency p99 ${result.latency.p99} ms`,
    );
    expect(result.errors + result.non2xx).toBe(0);
    expect(geminiResult.errors + geminiResult.non2xx).toBe(0);
    expect(geminiResult.requests.total).toBeGreaterThan(100);
    expect(reloads).toBeGreaterThanOrEqual(SECONDS - 2);
    expect(rotations).toBeGreaterThanOrEqual(SECONDS - 5);
    expect(inflight).toBe(0);
    if (SECONDS >= 60) {
      expect(rssAt10k).toBeGreaterThan(0);
      expect(rssAt10k).toBeLessThan(rssAt1k * 1.1);
    }
  }, (WARMUP + SECONDS + 60) * 1000);
});

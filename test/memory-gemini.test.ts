// Memory on the Gemini path, where usage is never reported by the upstream and is estimated locally:
// the built gateway as a process (--expose-gc and test/helpers/gc-probe.mjs, as in test/load.test.ts),
// ROUNDS rounds of Gemini requests; after each, idle, a full GC and the heap the process retains.
// Two checks: (1) retained heap + external stays under RETAINED_LIMIT_MIB: with the o200k tokenizer
// counting usage in the main thread it was 46.1 MiB after the first round (23.0 at start), with the
// estimator 26.3 (same test run on the commit before, dist built from it); (2) its trend over the
// requests served (a Theil–Sen slope over the rounds, robust to an odd reading on a busy machine)
// stays under LEAK_LIMIT bytes per request. Measured on a shared 2-core machine: 352 bytes per request
// with the estimator, 372 before it (a slow settling of JIT code and metrics, flattening round by
// round), 950 with MEM_GEMINI_LEAK_BYTES=2048, which fails. (gc-probe's deliberate leak retains
// ~550 bytes per request, not 2048: `padEnd` builds its filler as a rope whose halves V8 shares.)
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { spawnGatewayProcess, waitFor } from './helpers/gateway.js';
import { loadRunGeminiYaml, SHORT_GEMINI_ANSWER } from './helpers/gemini.js';
import { theilSen } from './helpers/trend.js';

const GC_PROBE = pathToFileURL(fileURLToPath(new URL('./helpers/gc-probe.mjs', import.meta.url))).href;
const TOKEN = 'memory-gemini-token-0123456789';
const ROUNDS = 8;
const PER_ROUND = Number(process.env.MEM_GEMINI_PER_ROUND ?? 150);
/** Judged from this round: the first ones fill bounded caches and warm the JIT. */
const JUDGE_FROM = 3;
const LEAK_LIMIT = 700;
const RETAINED_LIMIT_MIB = 36;
const LEAK_BYTES = Number(process.env.MEM_GEMINI_LEAK_BYTES ?? 0);

let dir: string;
let gemini: FakeGemini;
let child: ChildProcess;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gw-memg-'));
  gemini = await new FakeGemini().start();
  gemini.reply = () => SHORT_GEMINI_ANSWER;
  await writeFile(path.join(dir, 'gemini.json'), JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }));
  await writeFile(
    path.join(dir, 'config.yaml'),
    `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\n` + loadRunGeminiYaml(path.join(dir, 'gemini.json'), gemini.url),
  );
  ({ child, url } = await spawnGatewayProcess(path.join(dir, 'config.yaml'), 30_000 + Math.floor(Math.random() * 5000), `--expose-gc --import ${GC_PROBE}`, {
    GW_GC_PROBE_FILE: path.join(dir, 'gc.log'),
    ...(LEAK_BYTES > 0 ? { GW_TEST_LEAK_BYTES: String(LEAK_BYTES) } : {}),
  }));
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await gemini?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('memory on the Gemini path', () => {
  it(`retained heap stays small and flat over ${ROUNDS} x ${PER_ROUND} Gemini requests`, async () => {
    const pid = child.pid!;
    const gcFile = path.join(dir, 'gc.log');
    const lines = async () => (await readFile(gcFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
    const readOnce = async (): Promise<number> => {
      const before = (await lines()).length;
      process.kill(pid, 'SIGUSR2');
      await waitFor(async () => (await lines()).length > before, 5000, 20);
      const [heap, external] = (await lines()).at(-1)!.split(' ').map(Number) as [number, number];
      return heap + external;
    };
    // The least of three readings: a timer's work landing on one reading is not in all three.
    const retained = async () => {
      const readings: number[] = [];
      for (let i = 0; i < 3; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200));
        readings.push(await readOnce());
      }
      return Math.min(...readings);
    };
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'anthropic-version': '2023-06-01' };
    // Both a Chat and an Anthropic body, with a prompt long enough that counting it matters.
    const prompt = 'Summarise the design of the gateway in a few sentences, please. '.repeat(40);
    const bodies = [
      { path: '/v1/chat/completions', body: JSON.stringify({ model: 'gemini-3-flash', stream: true, messages: [{ role: 'user', content: prompt }] }) },
      { path: '/v1/messages', body: JSON.stringify({ model: 'gemini-3-flash', stream: false, max_tokens: 256, messages: [{ role: 'user', content: prompt }] }) },
    ];
    let served = 0;
    let errors = 0;
    const points: Array<{ x: number; y: number }> = [];
    points.push({ x: 0, y: await retained() });
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(
        bodies.map((b) => autocannon({ url: `${url}${b.path}`, method: 'POST', connections: 4, amount: PER_ROUND / 2, headers, body: b.body })),
      );
      for (const r of results) {
        served += r.requests.total;
        errors += r.errors + r.non2xx;
      }
      points.push({ x: served, y: await retained() });
    }
    const judged = points.slice(JUDGE_FROM);
    const slope = theilSen(judged);
    const mib = (b: number) => b / 1024 / 1024;
    const maxRetained = Math.max(...points.map((p) => mib(p.y)));
    // eslint-disable-next-line no-console
    console.log(
      `memory, Gemini path: ${served} requests; retained after GC (heap + external), requests:MiB ${points.map((p) => `${p.x}:${mib(p.y).toFixed(2)}`).join(' ')}; ` +
        `slope ${slope.toFixed(1)} bytes per request (limit ${LEAK_LIMIT}); max ${maxRetained.toFixed(1)} MiB (limit ${RETAINED_LIMIT_MIB})`,
    );
    expect(errors).toBe(0);
    expect(maxRetained).toBeLessThan(RETAINED_LIMIT_MIB);
    expect(slope).toBeLessThan(LEAK_LIMIT);
  }, 180_000);
});

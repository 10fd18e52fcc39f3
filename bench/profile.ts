// `npm run bench:profile`: where the gateway's CPU goes under load, the function table in
// docs/PERFORMANCE.md. The tsc build (dist/main.js, so modules keep their names) runs pinned to core
// 0 with --cpu-prof against the bench's mock upstream; autocannon (c=64, core 1) drives it for
// PROFILE_SECONDS. Printed: CPU per request, self time by module and by function, and by the nearest
// function of ours on the stack (library work charged to the code of ours that called it).
//   PROFILE_PATH=/v1/chat/completions  PROFILE_STREAM=0|1  PROFILE_MODEL=bench  PROFILE_SECONDS=8
// PROFILE_MODEL=gemini-3-flash profiles the Gemini web path against the bench's fake Gemini web app.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { throughput } from './measure.js';
import { killAll, pinSelfToCore1, runBench, spawnPinned, startFakeGemini, startGateway, writeBenchConfig, writeMockUpstreamConfig } from './processes.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const HERE = path.dirname(new URL(import.meta.url).pathname);
const CHECKOUT = path.resolve(HERE, '../..');
const urlPath = process.env.PROFILE_PATH ?? '/v1/chat/completions';
const stream = process.env.PROFILE_STREAM === '1';
const model = process.env.PROFILE_MODEL ?? 'bench';
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);

function requestBody(): object {
  if (urlPath.includes('/messages')) return { model, stream, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello.' }] };
  if (urlPath.includes('/responses')) return { model, stream, input: 'Say hello.' };
  return { model, stream, messages: [{ role: 'user', content: 'Say hello.' }] };
}

const isOurs = (frame: CallFrame) => frame.url.includes('/dist/') && !frame.url.includes('node_modules');
const ourName = (frame: CallFrame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/dist/')[1]}:${frame.lineNumber + 1}`;

function moduleOf(frame: CallFrame): string {
  const url = frame.url;
  if (url.includes('node_modules/')) return url.split('node_modules/')[1]!.split('/')[0]!;
  if (isOurs(frame)) return `ours: ${url.split('/dist/')[1]}`;
  return url || frame.functionName; // node:internal modules, or native entries (writev, GC, ...)
}

function table(totals: Map<string, number>, busy: number, rows: number): string {
  return [...totals]
    .filter(([key]) => key !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([key, us]) => `${((100 * us) / busy).toFixed(2).padStart(6)} %  ${key}`)
    .join('\n');
}

function analyse(profile: CpuProfile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const bySelf = new Map<string, number>();
  const byModule = new Map<string, number>();
  const byNearest = new Map<string, number>();
  const add = (m: Map<string, number>, key: string, us: number) => m.set(key, (m.get(key) ?? 0) + us);
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(idle)') return;
    busy += us;
    add(bySelf, `${leaf.functionName || '(anonymous)'} ${leaf.url.replace(/^.*\/(node_modules\/)?/, '')}:${leaf.lineNumber + 1}`, us);
    add(byModule, moduleOf(leaf), us);
    let nearest = '(no function of ours on the stack)';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (isOurs(frame)) {
        nearest = ourName(frame);
        break;
      }
    }
    add(byNearest, nearest, us);
  });
  return [
    `busy ${(busy / 1e6).toFixed(2)} s (start-up included; shares are of busy time)`,
    '\nby module (self time)',
    table(byModule, busy, 25),
    '\nby function (self time)',
    table(bySelf, busy, 40),
    '\nby nearest function of ours (with the library code it called)',
    table(byNearest, busy, 30),
  ].join('\n');
}

async function main(): Promise<void> {
  pinSelfToCore1();
  const port = 19_900 + Math.floor(Math.random() * 80);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-profile-'));
  try {
    await spawnPinned(1, path.join(HERE, 'mock-upstream.js'), [String(port)]);
    // A Gemini model goes to the fake Gemini web app (the bench's own config); anything else to the mock upstream alone.
    const gemini = model.startsWith('gemini') ? await startFakeGemini() : undefined;
    const config = gemini ? writeBenchConfig(dir, port, gemini) : writeMockUpstreamConfig(dir, port);
    const env = { CONFIG_PATH: config, SERVER_HOST: '127.0.0.1', CONFIG_WATCH: 'false' };
    const gateway = await startGateway(path.join(CHECKOUT, 'dist/main.js'), env, port + 1, 1, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const url = `${gateway.url}${urlPath}`;
    await throughput(url, requestBody(), 64, 1, gateway.endpoint.pid!);
    const result = await throughput(url, requestBody(), 64, seconds, gateway.endpoint.pid!);
    const exited = new Promise((resolve) => gateway.endpoint.once('exit', resolve));
    gateway.endpoint.kill('SIGINT'); // a clean exit writes the profile
    await exited;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the gateway wrote no profile');
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`${urlPath} ${stream ? 'stream' : 'non-stream'} model ${model}, c=64, ${seconds} s: ${Math.round(result.rps)} req/s, ${Math.round(result.cpuUs)} µs CPU per request (profiler running)\n${analyse(profile)}\n`);
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench('bench:profile', main);

// Fits the coefficients of src/core/token-estimate.ts against exact o200k counts.
//   npm run fit:tokens            fit on test/fixtures/tokens, print coefficients and errors
//   npm run fit:tokens -- --samples   first (re)write the samples from the repository's sources
// Samples: the text of each captured client request (test/fixtures/clients: every string of the
// body, tool schemas as JSON; cut strings keep the recorded head, not a filler), plus code, prose,
// JSON, Chinese and tool schemas. Each is cut into ~2 KB chunks; the fit is least squares on the
// relative error of the chunks (each row divided by its exact count), so short and long texts weigh
// alike. The exact counts are stored next to the samples (counts.json) for the test.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BpeWorker } from '../src/core/bpe-worker.js';
import { COEFFICIENTS, FEATURES, tokenFeatures } from '../src/core/token-estimate.js';

const DIR = 'test/fixtures/tokens';
const TRIMMED = /…\[trimmed, \d+ chars total\]/g;

/** Every string in a request body, schemas as JSON (as count_tokens renders tools). */
function bodyText(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value.replace(TRIMMED, ''));
  else if (Array.isArray(value)) for (const v of value) bodyText(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'model' || key === 'role' || key === 'type') continue;
      if (key === 'input_schema' || key === 'parameters') out.push(JSON.stringify(v).replace(TRIMMED, ''));
      else bodyText(v, out);
    }
  }
  return out;
}

function writeSamples(): void {
  mkdirSync(path.join(DIR, 'clients'), { recursive: true });
  mkdirSync(path.join(DIR, 'other'), { recursive: true });
  const clients = 'test/fixtures/clients';
  const tools = new Map<string, string>();
  for (const name of readdirSync(clients).filter((n) => n.endsWith('.json'))) {
    const body = (JSON.parse(readFileSync(path.join(clients, name), 'utf8')) as { body?: unknown }).body;
    const text = bodyText(body).join('\n');
    if (text.length < 20) continue;
    writeFileSync(path.join(DIR, 'clients', name.replace(/\.json$/, '.txt')), text);
    // One tool list per client (Claude Code, Codex, opencode, Qwen Code): theirs differ, a client's own do not.
    const t = (body as { tools?: unknown }).tools;
    const client = name.split('_')[0]!;
    if (Array.isArray(t) && t.length > 0 && !tools.has(client)) tools.set(client, JSON.stringify(t, null, 2).replace(TRIMMED, ''));
  }
  const read = (...files: string[]) => files.map((f) => readFileSync(f, 'utf8')).join('\n');
  const other: Record<string, string> = {
    'code-ts-pipeline.txt': read('src/pipeline/serve.ts', 'src/pipeline/stream-reply.ts'),
    'code-ts-core.txt': read('src/core/collect.ts', 'src/core/ttl-map.ts'),
    'code-js-yaml.txt': readFileSync('node_modules/yaml/dist/stringify/stringifyString.js', 'utf8'),
    'code-shell-docker.txt': read('Dockerfile', 'docker-compose.yml'),
    'prose-readme.txt': readFileSync('README.md', 'utf8').slice(0, 24_000),
    'prose-architecture.txt': readFileSync('docs/ARCHITECTURE.md', 'utf8').slice(0, 24_000),
    'json-package-lock.txt': readFileSync('package-lock.json', 'utf8').slice(0, 24_000),
    'json-sse-fixture.txt': read(...readdirSync(path.join(clients, 'mock-sse')).map((f) => path.join(clients, 'mock-sse', f))),
    'chinese-readme.txt': readFileSync('README.zh-CN.md', 'utf8').slice(0, 24_000),
    'chinese-clients.txt': readFileSync('docs/clients.zh-CN.md', 'utf8').slice(0, 24_000),
  };
  for (const [client, t] of tools) other[`tool-schemas-${client}.txt`] = t.slice(0, 40_000);
  for (const [name, text] of Object.entries(other)) writeFileSync(path.join(DIR, 'other', name), text);
}

export interface Sample {
  group: 'clients' | 'other';
  name: string;
  text: string;
}

function readSamples(): Sample[] {
  return (['clients', 'other'] as const).flatMap((group) =>
    readdirSync(path.join(DIR, group))
      .sort()
      .map((name) => ({ group, name, text: readFileSync(path.join(DIR, group, name), 'utf8') })),
  );
}

/** ~2 KB pieces cut at a line break, so a chunk boundary does not split a token. */
function chunks(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + 2048);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end);
      if (nl > start + 256) end = nl + 1;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

/** Least squares by the normal equations (a small ridge keeps them solvable). */
function solve(rows: number[][], targets: number[]): number[] {
  const n = rows[0]!.length;
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  rows.forEach((row, r) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i]![j]! += row[i]! * row[j]!;
      a[i]![n]! += row[i]! * targets[r]!;
    }
  });
  for (let i = 0; i < n; i++) a[i]![i]! += 1e-6;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

function estimate(text: string, coefficients: readonly number[]): number {
  const f = tokenFeatures(text, new Float64Array(FEATURES.length));
  let sum = 0;
  f.forEach((v, i) => (sum += v * coefficients[i]!));
  return text ? Math.max(1, Math.round(sum)) : 0;
}

function report(label: string, samples: Sample[], counts: Record<string, number>, coefficients: readonly number[]): void {
  for (const group of ['clients', 'other'] as const) {
    const errs = samples.filter((s) => s.group === group).map((s) => Math.abs(estimate(s.text, coefficients) - counts[`${group}/${s.name}`]!) / counts[`${group}/${s.name}`]!);
    const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
    console.log(`${label} ${group}: ${errs.length} samples, mean ${(mean * 100).toFixed(2)} %, max ${(Math.max(...errs) * 100).toFixed(2)} %`);
    if (process.argv.includes('--verbose')) {
      samples.filter((s) => s.group === group).forEach((s, i) => console.log(`  ${s.name} ${counts[`${group}/${s.name}`]} ${(errs[i]! * 100).toFixed(1)} %`));
    }
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--samples')) writeSamples();
  const samples = readSamples();
  const bpe = new BpeWorker({ idleMs: 1000 });
  const counts: Record<string, number> = {};
  const rows: number[][] = [];
  const targets: number[] = [];
  for (const s of samples) {
    counts[`${s.group}/${s.name}`] = await bpe.count(s.text);
    for (const chunk of chunks(s.text)) {
      const exact = await bpe.count(chunk);
      if (exact === 0) continue;
      const f = tokenFeatures(chunk, new Float64Array(FEATURES.length));
      rows.push([...f].map((v) => v / exact));
      targets.push(1);
    }
  }
  await bpe.close();
  writeFileSync(path.join(DIR, 'counts.json'), JSON.stringify(counts, null, 2) + '\n');
  const fitted = solve(rows, targets).map((c) => Math.round(c * 1000) / 1000);
  console.log(`${rows.length} chunks from ${samples.length} samples`);
  console.log(FEATURES.map((f, i) => `${f} ${fitted[i]}`).join(', '));
  console.log(`export const COEFFICIENTS: readonly number[] = [${fitted.join(', ')}];`);
  report('current', samples, counts, COEFFICIENTS);
  report('fitted ', samples, counts, fitted);
}

await main();

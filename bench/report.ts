// The benchmark's tables: per scenario (before / gateway / proxy side by side), paced-chunk CPU, and
// the targets with before, after and whether each is met. Written to docs/PERFORMANCE.md
// between the bench markers, so the rest of the page (profiles, notes) stays as written.
import { readFileSync, writeFileSync } from 'node:fs';

export type Target = 'before' | 'gateway' | 'proxy';
export const TARGETS: Target[] = ['before', 'gateway', 'proxy'];

/** Medians over the rounds of one target in one scenario. */
export interface Cell {
  rps: number;
  cpuUs: number;
  p50: number;
  p99: number;
  ttfb50: number;
  /**
   * Share of the proxy: in each round, this cell's req/s over the proxy's on the floor scenario in
   * the same round, then the median. (Medians of req/s taken apart can come from rounds the host ran
   * at different speeds.)
   */
  ratio?: number;
}

export interface Results {
  /** `floor`: the scenario whose proxy throughput is the 100 % for this one. */
  scenarios: Array<{ key: string; floor: string; cells: Partial<Record<Target, Cell>> }>;
  /** CPU µs per chunk of paced streams. */
  paced: Array<{ key: string; cells: Partial<Record<Target, number>> }>;
  startupMs: Partial<Record<Target, number>>;
  idleMiB: Partial<Record<Target, number>>;
  peakMiB: Partial<Record<Target, number>>;
  /** Cells left out because they failed ("target: scenario: reason"). */
  failures: string[];
  meta: { date: string; node: string; cpu: string; command: string; rounds: number; seconds: number; pinned: boolean; before?: string };
}

type Value = number | undefined;
const fmt = (v: Value, digits = 0) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
const triple = (cells: Partial<Record<Target, number>>, digits: number) => TARGETS.map((t) => fmt(cells[t], digits)).join(' / ');
const pick = <K extends keyof Cell>(cells: Partial<Record<Target, Cell>>, k: K) => Object.fromEntries(TARGETS.map((t) => [t, cells[t]?.[k]])) as Partial<Record<Target, number>>;

function ratio(results: Results, key: string, target: Target): Value {
  const scenario = results.scenarios.find((s) => s.key === key);
  if (scenario?.cells[target]?.ratio !== undefined) return scenario.cells[target]!.ratio;
  const floor = results.scenarios.find((s) => s.key === scenario?.floor)?.cells.proxy?.rps;
  const rps = scenario?.cells[target]?.rps;
  return rps !== undefined && floor ? rps / floor : undefined;
}

function scenarioTable(results: Results): string[] {
  const rows = results.scenarios.map((s) => {
    const ratios = (['before', 'gateway'] as Target[]).map((t) => fmt(ratio(results, s.key, t), 2)).join(' / ');
    return `| ${s.key} | ${triple(pick(s.cells, 'rps'), 0)} | ${ratios} | ${triple(pick(s.cells, 'p50'), 2)} | ${triple(pick(s.cells, 'p99'), 2)} | ${triple(pick(s.cells, 'cpuUs'), 0)} |`;
  });
  return [
    'Each cell: before / gateway / proxy (– where not measured; the proxy cannot translate protocols or speak Gemini).',
    '',
    '| scenario | c=64 req/s | ratio to proxy (before / gateway) | c=1 p50 ms | c=1 p99 ms | CPU µs/req (c=64) |',
    '|---|---|---|---|---|---|',
    ...rows,
  ];
}

function pacedTable(results: Results): string[] {
  return ['| paced stream (100 chunks, 10 ms apart, 32 at once) | CPU µs per chunk: before / gateway / proxy |', '|---|---|', ...results.paced.map((p) => `| ${p.key} | ${triple(p.cells, 1)} |`)];
}

interface Goal {
  measure: string;
  value: (t: Target) => Value;
  unit: (v: number) => string;
  target: string;
  met: (v: number) => boolean;
}

function goals(r: Results): Goal[] {
  const pct = (v: number) => `${(v * 100).toFixed(0)} %`;
  const cell = (key: string, t: Target) => r.scenarios.find((s) => s.key === key)?.cells[t];
  const paced = (key: string, t: Target) => r.paced.find((p) => p.key === key)?.cells[t];
  const throughputGoal = (key: string, min: number): Goal => ({ measure: `throughput ${key} (share of proxy)`, value: (t) => ratio(r, key, t), unit: pct, target: `>= ${min * 100} %`, met: (v) => v >= min });
  const perChunk = (key: string): Goal => ({
    measure: `Gemini cost per chunk / passthrough's (${key})`,
    value: (t) => {
      const gemini = paced(key, t);
      const pass = paced('chat passthrough', t);
      return gemini !== undefined && pass ? gemini / pass : undefined;
    },
    unit: (v) => `${v.toFixed(2)}x`,
    target: '<= 2x',
    met: (v) => v <= 2,
  });
  return [
    throughputGoal('chat passthrough, non-stream', 0.7),
    throughputGoal('chat passthrough, stream', 0.7),
    throughputGoal('chat full path, non-stream', 0.5),
    throughputGoal('chat full path, stream', 0.5),
    throughputGoal('anthropic -> openai, non-stream', 0.45),
    throughputGoal('anthropic -> openai, stream', 0.45),
    throughputGoal('responses -> openai, non-stream', 0.45),
    throughputGoal('responses -> openai, stream', 0.45),
    {
      measure: 'time to first byte added (chat stream, c=1, p50)',
      value: (t) => {
        const own = cell('chat passthrough, stream', t)?.ttfb50;
        const proxy = cell('chat passthrough, stream', 'proxy')?.ttfb50;
        return own !== undefined && proxy !== undefined ? own - proxy : undefined;
      },
      unit: (v) => `${v.toFixed(2)} ms`,
      target: '<= 0.5 ms',
      met: (v) => v <= 0.5,
    },
    { measure: 'CPU per request (chat passthrough non-stream, c=64)', value: (t) => cell('chat passthrough, non-stream', t)?.cpuUs, unit: (v) => `${v.toFixed(0)} µs`, target: '<= 200 µs', met: (v) => v <= 200 },
    { measure: 'CPU per paced chunk (chat passthrough)', value: (t) => paced('chat passthrough', t), unit: (v) => `${v.toFixed(1)} µs`, target: '<= 55 µs', met: (v) => v <= 55 },
    perChunk('gemini text'),
    perChunk('gemini tool call'),
    { measure: 'RSS idle', value: (t) => r.idleMiB[t], unit: (v) => `${v.toFixed(1)} MiB`, target: '<= 60 MiB', met: (v) => v <= 60 },
    { measure: 'RSS peak (VmHWM after all runs, Gemini c=64 included)', value: (t) => r.peakMiB[t], unit: (v) => `${v.toFixed(1)} MiB`, target: '<= 150 MiB', met: (v) => v <= 150 },
    { measure: 'start-up to first successful request (median of 5)', value: (t) => r.startupMs[t], unit: (v) => `${v.toFixed(0)} ms`, target: '<= 300 ms', met: (v) => v <= 300 },
  ];
}

function goalTable(results: Results): string[] {
  const rows = goals(results).map((g) => {
    const before = g.value('before');
    const after = g.value('gateway');
    const met = after === undefined || Number.isNaN(after) ? '–' : g.met(after) ? 'yes' : 'no';
    return `| ${g.measure} | ${before === undefined ? '–' : g.unit(before)} | ${after === undefined ? '–' : g.unit(after)} | ${g.target} | ${met} |`;
  });
  return ['| measure | before | after | target | met |', '|---|---|---|---|---|', ...rows];
}

export function render(results: Results): string {
  const m = results.meta;
  return [
    '## Load benchmark (`npm run bench`)',
    '',
    `Run on ${m.date}: ${m.cpu}, Node ${m.node}, ${m.rounds} round(s) of ${m.seconds} s per cell, targets and scenario order interleaved per round, medians.`,
    ...(m.before ? [`Before: ${m.before}; after: this checkout.`] : []),
    m.pinned ? 'Gateway, before and proxy pinned to core 0; the load generator (autocannon, in the bench process) and the fake upstreams to core 1.' : 'taskset not found: processes were not pinned.',
    '',
    `Command: \`${m.command}\``,
    '',
    ...scenarioTable(results),
    '',
    ...pacedTable(results),
    '',
    ...(results.failures.length ? ['Failed, left out:', '', ...results.failures.map((f) => `- ${f}`), ''] : []),
    '### Targets',
    '',
    ...goalTable(results),
    '',
    'Ratios divide by the proxy on the same mock upstream: chat rows by the proxy on the same request, translated and Gemini rows by the proxy on chat passthrough of the same kind; each is the median over the rounds of the ratio within one round (the host\'s speed drifts between rounds). Streams are 10 chunks from an instant upstream; "full path" is a tool call the gateway repairs (no `index`, finish_reason `stop`; non-stream: `arguments` as an object). Gemini rows go through the fake Gemini web app (framing, snapshots, reconciliation, tool-call parser), not Google.',
  ].join('\n');
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Replaces the text between the bench markers (or appends a marked section). */
export function writeSection(doc: string, section: string): void {
  const current = readFileSync(doc, 'utf8');
  const block = `${START}\n${section}\n${END}`;
  const from = current.indexOf(START);
  const to = current.indexOf(END);
  const updated = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + END.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(doc, updated);
}

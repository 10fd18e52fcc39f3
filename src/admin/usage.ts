// Usage over time for the console's overview: per-minute aggregates (requests, errors by kind,
// input/output tokens, TTFB and duration histograms) in total and per model, upstream and Gemini
// account, kept 24 h in a HashStore (memory, or Redis shared by replicas: counters and histogram
// buckets add up across replicas, and percentiles are computed from the summed buckets).
//
// Bounds: one hash per minute (24 h = 1440), at most MAX_LABELS distinct names per dimension and
// minute (the rest fold into "other"), names cut to 80 characters, and at most MAX_FIELDS fields a
// minute from this process (totals always; per-name fields past the budget are dropped): in memory
// at worst ~400 x 1445 numbers (~25 MB), typically a few hundred KB to a few MB. Each request adds to a local
// pending map; a timer flushes it every second (one Redis pipeline, never on the request's path).
// Account states are sampled once a minute (and at each query) from the cookieAccounts status.

import type { HashStore } from '../state/hash-store.js';

export const MINUTE_MS = 60_000;
export const KEEP_MINUTES = 24 * 60;
/** Histogram bucket upper bounds in ms (the last is open-ended). */
export const BOUNDS_MS = [10, 25, 50, 100, 250, 500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 120_000, 300_000, Infinity];
const MAX_LABELS: Record<Dimension, number> = { t: 1, m: 20, u: 10, a: 20 };
const MAX_FIELDS = 400;
const MAX_LABEL_LENGTH = 80;
const OTHER = 'other';
const QUANTILES = [0.5, 0.9, 0.99] as const;

/** t = total, m = model (as the client asked), u = upstream (provider id), a = Gemini account. */
type Dimension = 't' | 'm' | 'u' | 'a';

export interface UsageSample {
  /** ms since the epoch when the request ended. */
  at: number;
  model: string | null;
  upstream: string | null;
  account: string | null;
  /** A GatewayError kind for failures (HTTP errors and in-stream failures); null for a success. */
  errorKind: string | null;
  durationMs: number;
  ttfbMs: number | null;
  inputTokens: number;
  outputTokens: number;
}

export interface AccountSample {
  name: string;
  state: string;
  reason: string | null;
  until: string | null;
}

type Quantiles = { p50: number | null; p90: number | null; p99: number | null };
type QuantileSeries = { p50: Array<number | null>; p90: Array<number | null>; p99: Array<number | null> };

export interface UsageSeries {
  requests: number[];
  errors: number[];
  errors_by_kind: Record<string, number[]>;
  input_tokens: number[];
  output_tokens: number[];
  duration_ms: QuantileSeries;
  ttfb_ms: QuantileSeries;
}

export interface UsageSummary {
  requests: number;
  errors: number;
  errors_by_kind: Record<string, number>;
  input_tokens: number;
  output_tokens: number;
  duration_ms: Quantiles;
  ttfb_ms: Quantiles;
}

export interface AccountSegment {
  /** Unix seconds: the first minute of the run, and the end of its last minute. */
  from: number;
  to: number;
  state: string;
  reason: string | null;
  until: string | null;
}

export interface UsageReport {
  backend: string;
  step_seconds: number;
  /** Unix seconds of each minute's start, oldest first (uPlot's x values). */
  time: number[];
  total: UsageSeries;
  models: Record<string, UsageSeries>;
  upstreams: Record<string, UsageSeries>;
  accounts: Record<string, UsageSeries>;
  summary: { total: UsageSummary; models: Record<string, UsageSummary>; upstreams: Record<string, UsageSummary>; accounts: Record<string, UsageSummary> };
  account_states: Array<{ name: string; segments: AccountSegment[] }>;
}

export interface UsageOptions {
  backend: string;
  /** The accounts' states now (cookieAccounts.status()); empty when Gemini is off. */
  accounts?: () => AccountSample[];
  now?: () => number;
  flushEveryMs?: number;
  sampleEveryMs?: number;
}

/** The bucket a value falls in. */
export function bucketOf(ms: number): number {
  let i = 0;
  while (ms > BOUNDS_MS[i]!) i++;
  return i;
}

/** A quantile from bucket counts, interpolated inside its bucket (the open last bucket gives its lower bound). */
export function quantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && seen + c >= rank) {
      const low = i === 0 ? 0 : BOUNDS_MS[i - 1]!;
      const high = BOUNDS_MS[i]!;
      if (!Number.isFinite(high)) return low;
      return Math.round(low + ((high - low) * Math.max(0, rank - seen)) / c);
    }
    seen += c;
  }
  return BOUNDS_MS.at(-2)!;
}

function label(value: string | null): string {
  const text = (value ?? '(none)').replace(/\|/g, '/');
  return text.length > MAX_LABEL_LENGTH ? text.slice(0, MAX_LABEL_LENGTH) : text;
}

export class UsageAggregator {
  private pending = new Map<number, Map<string, number>>();
  /** Fields this process wrote per minute (current and last minute only), for MAX_FIELDS. */
  private fields = new Map<number, Set<string>>();
  /** Field names are made once and reused: the same few hundred strings every minute. */
  private readonly names = new Map<string, string>();
  /** Labels seen per minute and dimension, for the cardinality cap (current and last minute only). */
  private labels = new Map<number, Map<Dimension, Set<string>>>();
  private readonly now: () => number;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly sampleTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: HashStore,
    private readonly options: UsageOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.flushTimer = setInterval(() => void this.flush(), options.flushEveryMs ?? 1000);
    this.flushTimer.unref();
    if (options.accounts) {
      this.sampleTimer = setInterval(() => void this.sampleAccounts(), options.sampleEveryMs ?? MINUTE_MS);
      this.sampleTimer.unref();
      void this.sampleAccounts();
    }
  }

  /** Count one finished request (synchronous and cheap: the write happens on the next flush). */
  record(sample: UsageSample): void {
    const minute = Math.floor(sample.at / MINUTE_MS);
    let fields = this.pending.get(minute);
    if (!fields) this.pending.set(minute, (fields = new Map()));
    let written = this.fields.get(minute);
    if (!written) {
      this.fields.set(minute, (written = new Set()));
      for (const old of this.fields.keys()) if (old < minute - 1) this.fields.delete(old);
    }
    let total = true;
    const add = (raw: string, by: number) => {
      if (by === 0) return;
      let field = this.names.get(raw);
      if (field === undefined) {
        if (this.names.size > 20_000) this.names.clear();
        this.names.set(raw, (field = raw));
      }
      if (!written.has(field)) {
        if (!total && written.size >= MAX_FIELDS) return;
        written.add(field);
      }
      fields.set(field, (fields.get(field) ?? 0) + by);
    };
    const dims: Array<[Dimension, string | null]> = [['t', ''], ['m', sample.model], ['u', sample.upstream]];
    if (sample.account) dims.push(['a', sample.account]);
    for (const [dim, value] of dims) {
      total = dim === 't';
      const prefix = `${dim}|${dim === 't' ? '' : this.capped(minute, dim, label(value))}|`;
      add(`${prefix}n`, 1);
      if (sample.errorKind) {
        add(`${prefix}e`, 1);
        add(`${prefix}k:${label(sample.errorKind)}`, 1);
      }
      add(`${prefix}i`, sample.inputTokens);
      add(`${prefix}o`, sample.outputTokens);
      add(`${prefix}d${bucketOf(sample.durationMs)}`, 1);
      if (sample.ttfbMs !== null) add(`${prefix}f${bucketOf(sample.ttfbMs)}`, 1);
    }
  }

  /** Write what is pending (each minute one increment: one pipeline in Redis). */
  flush(): Promise<void> {
    const pending = this.pending;
    if (pending.size === 0) return this.flushing;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      for (const [minute, fields] of pending) await this.store.increment(String(minute), fields);
    });
    return this.flushing;
  }

  /** Write each account's state into the current minute. */
  async sampleAccounts(): Promise<void> {
    const accounts = this.options.accounts?.() ?? [];
    if (accounts.length === 0) return;
    const minute = Math.floor(this.now() / MINUTE_MS);
    const fields: Record<string, string> = {};
    for (const a of accounts.slice(0, MAX_LABELS.a)) fields[`s|${label(a.name)}`] = JSON.stringify({ state: a.state, reason: a.reason, until: a.until });
    await this.store.assign(String(minute), fields);
  }

  /** The last `minutes` minutes (the current one included), oldest first. */
  async report(minutes: number): Promise<UsageReport> {
    const count = Math.max(1, Math.min(KEEP_MINUTES, Math.floor(minutes)));
    await Promise.all([this.flush(), this.sampleAccounts()]);
    const last = Math.floor(this.now() / MINUTE_MS);
    const minuteList = Array.from({ length: count }, (_, i) => last - count + 1 + i);
    const hashes = await this.store.read(minuteList.map(String));

    // Parse every field once: dim -> label -> metric -> per-minute values.
    const data: Record<Dimension, Map<string, Map<string, number[]>>> = { t: new Map(), m: new Map(), u: new Map(), a: new Map() };
    const states = new Map<string, Array<{ minute: number; value: Omit<AccountSegment, 'from' | 'to'> }>>();
    hashes.forEach((hash, index) => {
      for (const [field, raw] of Object.entries(hash)) {
        const first = field.indexOf('|');
        const second = field.indexOf('|', first + 1);
        const dim = field.slice(0, first);
        if (dim === 's') {
          const name = field.slice(first + 1);
          try {
            const parsed = JSON.parse(raw) as { state?: unknown; reason?: unknown; until?: unknown };
            const list = states.get(name) ?? [];
            list.push({ minute: minuteList[index]!, value: { state: String(parsed.state ?? 'unknown'), reason: typeof parsed.reason === 'string' ? parsed.reason : null, until: typeof parsed.until === 'string' ? parsed.until : null } });
            states.set(name, list);
          } catch {
            // a foreign or broken field: skip it
          }
          continue;
        }
        if (first < 0 || second < 0 || !(dim in data)) continue;
        const name = field.slice(first + 1, second);
        const metric = field.slice(second + 1);
        const byLabel = data[dim as Dimension];
        let metrics = byLabel.get(name);
        if (!metrics) byLabel.set(name, (metrics = new Map()));
        let values = metrics.get(metric);
        if (!values) metrics.set(metric, (values = new Array<number>(count).fill(0)));
        values[index] = Number(raw) || 0;
      }
    });

    const group = (dim: Dimension) => {
      const series: Record<string, UsageSeries> = {};
      const summary: Record<string, UsageSummary> = {};
      for (const [name, metrics] of [...data[dim]].sort(([a], [b]) => a.localeCompare(b))) {
        series[name] = toSeries(metrics, count);
        summary[name] = toSummary(metrics);
      }
      return { series, summary };
    };
    const total = data.t.get('') ?? new Map<string, number[]>();
    const [models, upstreams, accounts] = [group('m'), group('u'), group('a')];
    return {
      backend: this.options.backend,
      step_seconds: 60,
      time: minuteList.map((m) => m * 60),
      total: toSeries(total, count),
      models: models.series,
      upstreams: upstreams.series,
      accounts: accounts.series,
      summary: { total: toSummary(total), models: models.summary, upstreams: upstreams.summary, accounts: accounts.summary },
      account_states: [...states].sort(([a], [b]) => a.localeCompare(b)).map(([name, samples]) => ({ name, segments: segments(samples) })),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    await this.flush();
  }

  private capped(minute: number, dim: Dimension, value: string): string {
    let byDim = this.labels.get(minute);
    if (!byDim) {
      this.labels.set(minute, (byDim = new Map()));
      for (const old of this.labels.keys()) if (old < minute - 1) this.labels.delete(old);
    }
    let seen = byDim.get(dim);
    if (!seen) byDim.set(dim, (seen = new Set()));
    if (seen.has(value)) return value;
    if (seen.size >= MAX_LABELS[dim]) return OTHER;
    seen.add(value);
    return value;
  }
}

function toSeries(metrics: Map<string, number[]>, count: number): UsageSeries {
  const zeros = () => new Array<number>(count).fill(0);
  const kinds: Record<string, number[]> = {};
  for (const [metric, values] of metrics) if (metric.startsWith('k:')) kinds[metric.slice(2)] = values;
  const hist = (letter: 'd' | 'f'): QuantileSeries => {
    const buckets = BOUNDS_MS.map((_, i) => metrics.get(`${letter}${i}`));
    const at = (q: number) => Array.from({ length: count }, (_, m) => quantile(buckets.map((b) => b?.[m] ?? 0), q));
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  };
  return {
    requests: metrics.get('n') ?? zeros(),
    errors: metrics.get('e') ?? zeros(),
    errors_by_kind: kinds,
    input_tokens: metrics.get('i') ?? zeros(),
    output_tokens: metrics.get('o') ?? zeros(),
    duration_ms: hist('d'),
    ttfb_ms: hist('f'),
  };
}

function toSummary(metrics: Map<string, number[]>): UsageSummary {
  const sum = (metric: string) => (metrics.get(metric) ?? []).reduce((a, b) => a + b, 0);
  const kinds: Record<string, number> = {};
  for (const metric of metrics.keys()) if (metric.startsWith('k:')) kinds[metric.slice(2)] = sum(metric);
  const hist = (letter: 'd' | 'f'): Quantiles => {
    const counts = BOUNDS_MS.map((_, i) => sum(`${letter}${i}`));
    const [p50, p90, p99] = QUANTILES.map((q) => quantile(counts, q));
    return { p50: p50!, p90: p90!, p99: p99! };
  };
  return { requests: sum('n'), errors: sum('e'), errors_by_kind: kinds, input_tokens: sum('i'), output_tokens: sum('o'), duration_ms: hist('d'), ttfb_ms: hist('f') };
}

/** Consecutive minutes in the same state (and reason) become one segment; a minute without a sample ends a run. */
function segments(samples: Array<{ minute: number; value: Omit<AccountSegment, 'from' | 'to'> }>): AccountSegment[] {
  const out: AccountSegment[] = [];
  for (const { minute, value } of samples.sort((a, b) => a.minute - b.minute)) {
    const last = out.at(-1);
    if (last && last.to === minute * 60 && last.state === value.state && last.reason === value.reason) {
      last.to = (minute + 1) * 60;
      last.until = value.until;
    } else out.push({ from: minute * 60, to: (minute + 1) * 60, ...value });
  }
  return out;
}

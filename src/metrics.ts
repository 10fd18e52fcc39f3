// Prometheus metrics for the whole process, and a bounded ring of recent requests for operators.
// Labels are low-cardinality by construction: models are the names the client asked for (bounded by
// what routes), never free text; no label ever holds a token or a cookie.
//
// The gateway's own series are plain counters here, written out in the text format at scrape time:
// the request path only adds to a number in a Map (prom-client hashed and checked the labels on
// every call). prom-client still supplies the process and Node.js series, loaded on the first
// scrape, so a gateway nobody scrapes never loads it.

type LabelValues<L extends string> = Readonly<Record<L, string>>;

/** One series per label combination: the rendered `{a="x"}` text and its value(s). */
interface Series<V> {
  readonly labels: string;
  value: V;
}

const escapeLabel = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

abstract class Metric<L extends string, V> {
  protected readonly series = new Map<string, Series<V>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[] = [],
  ) {}

  protected abstract initial(): V;

  /** The series for these labels, created on first use (the key is the values joined, cheap to build). */
  protected at(labels: LabelValues<L> | undefined): Series<V> {
    const names = this.labelNames;
    let key = '';
    for (let i = 0; i < names.length; i++) key += i === 0 ? labels![names[i]!] : `\u0001${labels![names[i]!]}`;
    let found = this.series.get(key);
    if (found === undefined) {
      const text = names.map((name) => `${name}="${escapeLabel(String(labels![name]))}"`).join(',');
      found = { labels: text, value: this.initial() };
      this.series.set(key, found);
    }
    return found;
  }

  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${type}\n`;
  }

  abstract render(): string;
}

const braced = (labels: string) => (labels ? `{${labels}}` : '');

export class Counter<L extends string = never> extends Metric<L, number> {
  protected initial(): number {
    return 0;
  }

  inc(...args: [L] extends [never] ? [by?: number] : [labels: LabelValues<L>, by?: number]): void {
    const withLabels = this.labelNames.length > 0;
    const series = this.at(withLabels ? (args[0] as LabelValues<L>) : undefined);
    series.value += ((withLabels ? args[1] : args[0]) as number | undefined) ?? 1;
  }

  render(): string {
    let out = this.header(this.type());
    if (this.series.size === 0 && this.labelNames.length === 0) out += `${this.name} 0\n`;
    for (const { labels, value } of this.series.values()) out += `${this.name}${braced(labels)} ${value}\n`;
    return out;
  }

  protected type(): string {
    return 'counter';
  }
}

export class Gauge<L extends string = never> extends Counter<L> {
  dec(): void {
    this.at(undefined).value -= 1;
  }

  set(labels: LabelValues<L>, value: number): void {
    this.at(labels).value = value;
  }

  protected override type(): string {
    return 'gauge';
  }
}

interface Buckets {
  counts: number[]; // per bucket, not cumulative; the last is +Inf
  sum: number;
  count: number;
}

export class Histogram<L extends string> extends Metric<L, Buckets> {
  constructor(name: string, help: string, labelNames: readonly L[], readonly bounds: readonly number[]) {
    super(name, help, labelNames);
  }

  protected initial(): Buckets {
    return { counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(labels: LabelValues<L>, value: number): void {
    const buckets = this.at(labels).value;
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    buckets.counts[i]! += 1;
    buckets.sum += value;
    buckets.count += 1;
  }

  render(): string {
    let out = this.header('histogram');
    for (const { labels, value } of this.series.values()) {
      const prefix = labels ? `${labels},` : '';
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += value.counts[i]!;
        out += `${this.name}_bucket{${prefix}le="${i < this.bounds.length ? this.bounds[i] : '+Inf'}"} ${cumulative}\n`;
      }
      out += `${this.name}_sum${braced(labels)} ${value.sum}\n${this.name}_count${braced(labels)} ${value.count}\n`;
    }
    return out;
  }
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const metrics = {
  requests: new Counter('gateway_requests_total', 'Requests by route, model, provider and status', ['route', 'model', 'provider', 'status']),
  latency: new Histogram('gateway_request_duration_seconds', 'Request duration', ['route'], SECONDS),
  ttfb: new Histogram('gateway_time_to_first_byte_seconds', 'Time to the first streamed byte', ['route'], SECONDS),
  upstreamErrors: new Counter('gateway_upstream_errors_total', 'Upstream failures by provider and kind', ['provider', 'kind']),
  fallbacks: new Counter('gateway_fallbacks_total', 'Requests served by another route than the first', ['from', 'to']),
  inflightStreams: new Gauge('gateway_inflight_streams', 'Streams being served now'),
  accounts: new Gauge('gateway_gemini_accounts', 'Gemini accounts by state', ['state']),
  rotations: new Counter('gateway_cookie_rotations_total', 'Cookie rotations by outcome', ['result']),
  ipBlocks: new Counter('gateway_gemini_ip_blocks_total', 'IP blocks Google answered (a /sorry redirect or 429): the egress rests'),
};

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

let processMetrics: Promise<{ metrics(): Promise<string> }> | undefined;

/** The Prometheus text of every series: the gateway's, then prom-client's process and Node.js ones. */
export async function renderMetrics(): Promise<string> {
  if (processMetrics === undefined) {
    processMetrics = import('prom-client').then((loaded) => {
      // CommonJS: `default` is its module.exports both under Node's loader and in the bundle (which
      // does not name the exports of a CommonJS module it imports dynamically).
      const client = loaded.default;
      const registry = new client.Registry();
      client.collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
      return registry;
    });
    processMetrics.catch(() => (processMetrics = undefined)); // a failed load is tried again next scrape
  }
  let out = '';
  for (const metric of Object.values(metrics)) out += `${metric.render()}\n`;
  return out + (await (await processMetrics).metrics());
}

export interface RequestRecord {
  time: string;
  protocol: string;
  method: string;
  path: string;
  model: string | null;
  provider: string | null;
  status: number;
  stream: boolean;
  duration_ms: number;
  ttfb_ms: number | null;
  tokens: { input: number; output: number } | null;
  client: string | null;
}

/** A record as pushed: `time` as epoch milliseconds, turned into an ISO string only when listed. */
export type RequestRecordAt = Omit<RequestRecord, 'time'> & { time: number };

/** The last N requests, oldest overwritten first. No bodies, no secrets. */
export class RequestRing {
  private readonly items: Array<RequestRecordAt | undefined>;
  private next = 0;

  constructor(readonly capacity = 200) {
    this.items = new Array<RequestRecordAt | undefined>(capacity);
  }

  push(record: RequestRecordAt): void {
    this.items[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(limit = this.capacity): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const item = this.items[(this.next - i + this.capacity) % this.capacity];
      if (item) out.push({ ...item, time: new Date(item.time).toISOString() });
    }
    return out;
  }
}

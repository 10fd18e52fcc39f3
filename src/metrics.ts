// Prometheus metrics (prom-client) for the whole process, and a bounded ring of recent requests
// for operators. Labels are low-cardinality by construction: models are the names the client asked
// for (bounded by what routes), never free text; no label ever holds a token or a cookie.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'gateway_' });

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const metrics = {
  requests: new Counter({ name: 'gateway_requests_total', help: 'Requests by route, model, provider and status', labelNames: ['route', 'model', 'provider', 'status'], registers: [registry] }),
  latency: new Histogram({ name: 'gateway_request_duration_seconds', help: 'Request duration', labelNames: ['route'], buckets: SECONDS, registers: [registry] }),
  ttfb: new Histogram({ name: 'gateway_time_to_first_byte_seconds', help: 'Time to the first streamed byte', labelNames: ['route'], buckets: SECONDS, registers: [registry] }),
  upstreamErrors: new Counter({ name: 'gateway_upstream_errors_total', help: 'Upstream failures by provider and kind', labelNames: ['provider', 'kind'], registers: [registry] }),
  fallbacks: new Counter({ name: 'gateway_fallbacks_total', help: 'Requests served by another route than the first', labelNames: ['from', 'to'], registers: [registry] }),
  inflightStreams: new Gauge({ name: 'gateway_inflight_streams', help: 'Streams being served now', registers: [registry] }),
  accounts: new Gauge({ name: 'gateway_gemini_accounts', help: 'Gemini accounts by state', labelNames: ['state'], registers: [registry] }),
  rotations: new Counter({ name: 'gateway_cookie_rotations_total', help: 'Cookie rotations by outcome', labelNames: ['result'], registers: [registry] }),
  ipBlocks: new Counter({ name: 'gateway_gemini_ip_blocks_total', help: 'IP blocks Google answered (a /sorry redirect or 429): the egress rests', registers: [registry] }),
};

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

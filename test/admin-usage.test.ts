// Usage over time (admin/usage.ts, GET /admin/usage), the live log (GET /admin/logs/stream) and
// clearing a log-level override (DELETE /admin/logging).
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/gateway-error.js';
import { BOUNDS_MS, bucketOf, quantile, UsageAggregator, type UsageSample } from '../src/admin/usage.js';
import { LogBroadcaster } from '../src/admin/log-stream.js';
import { MemoryHashStore } from '../src/state/hash-store.js';
import { appFor, type TestApp } from './helpers/app.js';
import { ScriptedProvider, registryWith, scripts } from './helpers/scripted-provider.js';

const TOKEN = 'usage-client-token-0001';
const ADMIN = 'usage-admin-token-0001';
const MIN = 60_000;
let t: TestApp | undefined;
const aggregators: UsageAggregator[] = [];
afterEach(async () => {
  await t?.app.close();
  t = undefined;
  for (const a of aggregators.splice(0)) await a.close();
});

const sample = (over: Partial<UsageSample> = {}): UsageSample => ({
  at: 0, model: 'gemini-3-pro', upstream: 'gemini', account: 'default', errorKind: null, durationMs: 800, ttfbMs: 300, inputTokens: 10, outputTokens: 5, ...over,
});

function aggregator(clock: { now: number }, accounts?: () => Array<{ name: string; state: string; reason: string | null; until: string | null }>) {
  const store = new MemoryHashStore(1445, 1445 * MIN, () => clock.now);
  const a = new UsageAggregator(store, { backend: 'memory', now: () => clock.now, ...(accounts ? { accounts } : {}) });
  aggregators.push(a);
  return { a, store };
}

describe('histogram percentiles', () => {
  it('puts values in buckets and interpolates inside one', () => {
    expect(bucketOf(5)).toBe(0);
    expect(bucketOf(10)).toBe(0);
    expect(bucketOf(11)).toBe(1);
    expect(bucketOf(1e9)).toBe(BOUNDS_MS.length - 1);
    const counts = new Array<number>(BOUNDS_MS.length).fill(0);
    expect(quantile(counts, 0.5)).toBeNull();
    counts[bucketOf(700)] = 10; // 500..1000
    expect(quantile(counts, 0.5)).toBe(750);
    expect(quantile(counts, 0.9)).toBe(950);
    counts[BOUNDS_MS.length - 1] = 100; // beyond 300 s: the open bucket's lower bound
    expect(quantile(counts, 0.99)).toBe(300_000);
  });
});

describe('UsageAggregator', () => {
  it('aggregates per minute in total and per model, upstream and account, with errors by kind and percentiles', async () => {
    const clock = { now: 100 * MIN + 5000 };
    const { a } = aggregator(clock);
    a.record(sample({ at: 98 * MIN + 1 }));
    a.record(sample({ at: 100 * MIN + 1, model: 'gemini-3-flash', durationMs: 2500, ttfbMs: 2000 }));
    a.record(sample({ at: 100 * MIN + 2, errorKind: 'rate_limited', inputTokens: 0, outputTokens: 0, ttfbMs: null }));
    a.record(sample({ at: 100 * MIN + 3, model: 'gpt-4o', upstream: 'g4f', account: null }));
    const r = await a.report(3);
    expect(r.time).toEqual([98 * 60, 99 * 60, 100 * 60]);
    expect(r.total.requests).toEqual([1, 0, 3]);
    expect(r.total.errors).toEqual([0, 0, 1]);
    expect(r.total.errors_by_kind).toEqual({ rate_limited: [0, 0, 1] });
    expect(r.total.input_tokens).toEqual([10, 0, 20]);
    expect(r.total.output_tokens).toEqual([5, 0, 10]);
    expect(r.total.duration_ms.p50[1]).toBeNull();
    expect(r.models['gemini-3-pro']!.requests).toEqual([1, 0, 1]);
    expect(r.models['gemini-3-flash']!.duration_ms.p50).toEqual([null, null, 2500]) // one value in 2000..3000: the middle;
    expect(r.upstreams.g4f!.requests).toEqual([0, 0, 1]);
    expect(Object.keys(r.accounts)).toEqual(['default']);
    expect(r.accounts.default!.requests).toEqual([1, 0, 2]);
    expect(r.summary.total).toMatchObject({ requests: 4, errors: 1, input_tokens: 30, output_tokens: 15, errors_by_kind: { rate_limited: 1 } });
    expect(r.summary.total.duration_ms.p50).toBeGreaterThan(500);
    expect(r.summary.models['gemini-3-pro']).toMatchObject({ requests: 2, errors: 1 });
  });

  it('caps the distinct names per minute (the rest count as "other") and keeps 24 hours', async () => {
    const clock = { now: 2000 * MIN };
    const { a, store } = aggregator(clock);
    for (let i = 0; i < 30; i++) a.record(sample({ at: clock.now, model: `model-${i}`, upstream: `up-${i}`, account: `acct-${i}` }));
    let r = await a.report(1);
    expect(Object.keys(r.models)).toHaveLength(21);
    expect(r.models.other!.requests).toEqual([10]);
    expect(Object.keys(r.upstreams)).toHaveLength(11);
    expect(r.upstreams.other!.requests).toEqual([20]);
    expect(r.total.requests).toEqual([30]);
    // a name with the field separator stays one name
    a.record(sample({ at: clock.now + MIN, model: 'a|b' }));
    r = await a.report(1);
    clock.now += MIN;
    r = await a.report(1);
    expect(Object.keys(r.models)).toEqual(['a/b']);
    // a day of minutes later the memory holds at most a day (and a few minutes)
    for (let m = 0; m < 1500; m++) {
      clock.now += MIN;
      a.record(sample({ at: clock.now }));
      await a.flush();
    }
    expect(store.size).toBeLessThanOrEqual(1445);
    r = await a.report(100_000);
    expect(r.time).toHaveLength(1440);
    expect(r.summary.total.requests).toBe(1440);
  });

  it('keeps at most 400 fields a minute; the totals stay exact past the budget', async () => {
    const clock = { now: 3000 * MIN };
    const { a, store } = aggregator(clock);
    for (let m = 0; m < 20; m++) for (const d of BOUNDS_MS) a.record(sample({ at: clock.now, model: `model-${m}`, durationMs: Number.isFinite(d) ? d : 1e6, errorKind: `kind-${m}` }));
    await a.flush();
    const [hash] = await store.read([String(3000)]);
    expect(Object.keys(hash!).length).toBeLessThanOrEqual(400 + 60); // the totals' own fields are never dropped
    const r = await a.report(1);
    expect(r.summary.total.requests).toBe(20 * BOUNDS_MS.length);
    expect(r.summary.total.errors).toBe(20 * BOUNDS_MS.length);
  });

  it('samples account states each minute into runs, with the reason and the time a rest ends', async () => {
    const clock = { now: 500 * MIN };
    let state = { name: 'default', state: 'ok', reason: null as string | null, until: null as string | null };
    const { a } = aggregator(clock, () => [state, { name: 'spare', state: 'guest', reason: null, until: null }]);
    await a.sampleAccounts();
    clock.now += MIN;
    await a.sampleAccounts();
    clock.now += MIN;
    state = { name: 'default', state: 'ip_blocked', reason: 'Google is blocking this IP', until: new Date(clock.now + 30 * MIN).toISOString() };
    const r = await a.report(5); // sampling the current minute too
    const byName = Object.fromEntries(r.account_states.map((s) => [s.name, s.segments]));
    expect(byName.default).toEqual([
      { from: 500 * 60, to: 502 * 60, state: 'ok', reason: null, until: null },
      { from: 502 * 60, to: 503 * 60, state: 'ip_blocked', reason: 'Google is blocking this IP', until: state.until },
    ]);
    expect(byName.spare).toEqual([{ from: 500 * 60, to: 503 * 60, state: 'guest', reason: null, until: null }]);
  });
});

const YAML = `auth:\n  bearer_token: ${TOKEN}\n  admin_token: ${ADMIN}\ngemini:\n  enabled: false\ng4f:\n  models: ["gpt-*"]\n  fallback:\n    max_retries: 0\n`;
const admin = { authorization: `Bearer ${ADMIN}` };
const chat = (app: TestApp['app'], model: string, stream = false) =>
  app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { authorization: `Bearer ${TOKEN}` }, payload: { model, stream, messages: [{ role: 'user', content: 'hi' }] } });

describe('GET /admin/usage', () => {
  it('counts client requests from the response hook: tokens, errors by kind (also mid-stream), not admin calls', async () => {
    const primary = new ScriptedProvider('g4f');
    t = await appFor(YAML, { providers: registryWith(primary) });
    primary.script = scripts.text('Hello there', { inputTokens: 24, outputTokens: 12 });
    expect((await chat(t.app, 'gpt-4o')).statusCode).toBe(200);
    primary.script = scripts.text('Hello there', { inputTokens: 24, outputTokens: 12 });
    expect((await chat(t.app, 'gpt-4o', true)).statusCode).toBe(200);
    primary.script = [{ throw: new GatewayError('upstream_overloaded', 'busy') }];
    expect((await chat(t.app, 'gpt-4o')).statusCode).toBe(503);
    primary.script = [{ type: 'text-delta', text: 'partial' }, { throw: new GatewayError('timeout', 'too slow') }];
    expect((await chat(t.app, 'gpt-mid', true)).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/admin/usage', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(403);

    const res = await t.app.inject({ url: '/admin/usage?minutes=5', headers: admin });
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r.backend).toBe('memory');
    expect(r.time).toHaveLength(5);
    expect(r.summary.total).toMatchObject({ requests: 4, errors: 2, errors_by_kind: { upstream_overloaded: 1, timeout: 1 }, input_tokens: 48, output_tokens: 24 });
    expect(r.summary.models['gpt-4o']).toMatchObject({ requests: 3, errors: 1 });
    expect(r.summary.upstreams.g4f.requests).toBe(4);
    expect(r.summary.total.ttfb_ms.p50).not.toBeNull();
    expect(r.account_states).toEqual([]);
  });
});

describe('live log', () => {
  it('keeps a bounded backlog and fans lines out', () => {
    const b = new LogBroadcaster(3);
    const seen: string[] = [];
    const off = b.subscribe((l) => seen.push(l));
    for (const n of [1, 2, 3, 4]) b.push(`{"n":${n}}\n`);
    expect(b.recent(10)).toEqual(['{"n":2}', '{"n":3}', '{"n":4}']);
    expect(seen).toHaveLength(4);
    off();
    b.push('x'.repeat(20_000));
    expect(JSON.parse(b.recent(1)[0]!).msg).toContain('20000 characters, cut');
  });

  it('streams scrubbed lines to the admin over SSE (Authorization header), ends on shutdown', async () => {
    const primary = new ScriptedProvider('g4f');
    t = await appFor(YAML, { providers: registryWith(primary) });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    expect((await fetch(`${url}/admin/logs/stream`)).status).toBe(401);
    expect((await fetch(`${url}/admin/logs/stream`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(403);

    const res = await fetch(`${url}/admin/logs/stream?backlog=0`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (check: (s: string) => boolean) => {
      while (!check(text)) {
        const step = await reader.read();
        if (step.done) return;
        text += step.value;
      }
    };
    await until((s) => s.includes('event: hello'));
    expect(text).toContain('"level":"info"');
    // The client token in a path lands in the request log line, scrubbed.
    const started = Date.now();
    await fetch(`${url}/v1/${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await until((s) => s.includes('/v1/[REDACTED]'));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(text).not.toContain(TOKEN);
    const line = text.split('\n').find((l) => l.includes('/v1/[REDACTED]'))!;
    expect(JSON.parse(line.slice('data: '.length))).toMatchObject({ level: 'info', status: 404 });

    await t.app.close(); // the open stream does not hold the shutdown
    await until(() => false);
    t = undefined;
  });
});

describe('DELETE /admin/logging', () => {
  it('ends an override: back to the configured level', async () => {
    t = await appFor(YAML, { providers: registryWith(new ScriptedProvider('g4f')) });
    await t.app.inject({ method: 'POST', url: '/admin/logging', headers: admin, payload: { level: 'debug', ttl_seconds: 600 } });
    expect(t.logs.logger.level).toBe('debug');
    const res = await t.app.inject({ method: 'DELETE', url: '/admin/logging', headers: admin });
    expect(res.json()).toMatchObject({ level: 'info', configured_level: 'info', override: null });
    expect(t.logs.logger.level).toBe('info');
  });
});

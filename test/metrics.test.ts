import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/gateway-error.js';
import { appFor, type TestApp } from './helpers/app.js';
import { ScriptedProvider, registryWith, scripts } from './helpers/scripted-provider.js';

const TOKEN = 'metrics-client-token-000';
const ADMIN = 'metrics-admin-token-000';
let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  t = undefined;
});

const YAML = (extra = '') =>
  `auth:\n  bearer_token: ${TOKEN}\n  admin_token: ${ADMIN}\ngemini:\n  enabled: false\ng4f:\n  models: ["gpt-*"]\n  fallback:\n    max_retries: 0\n` +
  `openai_compatible:\n  - name: backup\n    base_url: http://127.0.0.1:9/v1\n    models: ["backup-*"]\nrouting:\n  fallbacks:\n    "gpt-fail": [backup-1]\n${extra}`;

async function setup(extra = '') {
  const primary = new ScriptedProvider('g4f');
  const backup = new ScriptedProvider('backup');
  t = await appFor(YAML(extra), { providers: registryWith(primary, backup) });
  return { app: t.app, primary, backup };
}

const chat = (app: TestApp['app'], model: string, stream = false) =>
  app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { authorization: `Bearer ${TOKEN}` }, payload: { model, stream, messages: [{ role: 'user', content: 'hi' }] } });

async function scrape(app: TestApp['app']): Promise<string> {
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.statusCode).toBe(200);
  return res.body;
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('/metrics', () => {
  it('counts requests by route, model, provider and status, with latency and TTFB histograms', async () => {
    const { app, primary } = await setup();
    const series = 'gateway_requests_total{route="/v1/chat/completions",model="gpt-4o",provider="g4f",status="200"}';
    const before = value(await scrape(app), series);
    primary.script = scripts.text();
    await chat(app, 'gpt-4o');
    primary.script = scripts.text();
    await chat(app, 'gpt-4o', true);
    const text = await scrape(app);
    expect(value(text, series)).toBe(before + 2);
    expect(text).toMatch(/gateway_request_duration_seconds_count\{route="\/v1\/chat\/completions"\} \d+/);
    expect(text).toMatch(/gateway_time_to_first_byte_seconds_count\{route="\/v1\/chat\/completions"\} [1-9]/);
    expect(text).toContain('gateway_inflight_streams 0');
    expect(text).toContain('gateway_process_resident_memory_bytes');
    expect(text).not.toContain(TOKEN);
  });

  it('counts upstream errors and fallbacks taken', async () => {
    const { app, primary, backup } = await setup();
    const errors = 'gateway_upstream_errors_total{provider="g4f",kind="upstream_unavailable"}';
    const fallbacks = 'gateway_fallbacks_total{from="g4f",to="backup"}';
    const before = await scrape(app);
    primary.script = [{ throw: new GatewayError('upstream_unavailable', 'down') }];
    backup.script = scripts.text('from backup');
    const res = await chat(app, 'gpt-fail');
    expect(res.json().choices[0].message.content).toBe('from backup');
    const after = await scrape(app);
    expect(value(after, errors)).toBe(value(before, errors) + 1);
    expect(value(after, fallbacks)).toBe(value(before, fallbacks) + 1);
  });

  it('needs the admin token unless metrics.public', async () => {
    const { app } = await setup();
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(403);
    await app.close();
    const open = await setup('metrics:\n  public: true\n');
    expect((await open.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('/admin/requests', () => {
  it('lists recent requests newest first, without bodies or secrets', async () => {
    const { app, primary } = await setup();
    primary.script = scripts.text();
    await chat(app, 'gpt-4o');
    primary.script = scripts.toolCall();
    await chat(app, 'gpt-4o', true);
    const res = await app.inject({ url: '/admin/requests?limit=5', headers: { authorization: `Bearer ${ADMIN}` } });
    const { requests } = res.json() as { requests: Array<Record<string, unknown>> };
    expect(requests[0]).toMatchObject({ protocol: 'openai-chat', method: 'POST', path: '/v1/chat/completions', model: 'gpt-4o', provider: 'g4f', status: 200, stream: true, client: 'default', tokens: { input: 40, output: 15 } });
    expect(requests[1]).toMatchObject({ stream: false, tokens: { input: 24, output: 12 } });
    expect(res.body).not.toContain(TOKEN);
    expect(res.body).not.toContain('hi');
  });
});

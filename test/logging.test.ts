import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatTextLine } from '../src/logging/text-format.js';
import { appFor, type TestApp } from './helpers/app.js';
import { startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const TOKEN = 'logging-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

let t: TestApp | undefined;
let g: TestGateway | undefined;
afterEach(async () => {
  await t?.app.close();
  t?.logs.close();
  await g?.stop();
  t = undefined;
  g = undefined;
});

const healthLines = (app: TestApp) => app.output.lines().filter((l) => l.path === '/health');

describe('request log line', () => {
  it('writes one INFO line per request with method, path, status and duration', async () => {
    t = await appFor(`auth:\n  bearer_token: ${TOKEN}\n`);
    await t.app.inject({ url: '/v1/models', headers: auth });
    const lines = t.output.lines().filter((l) => l.path === '/v1/models');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', method: 'GET', path: '/v1/models', status: 200, client: 'default' });
    expect(typeof lines[0]!.duration_ms).toBe('number');
    expect(lines[0]!.msg).toMatch(/^GET \/v1\/models \| - \| 200 \| \d+\.\d{3}s$/);
  });
});

describe('run-time log level', () => {
  it('switching to debug changes which lines are emitted, and GET shows it', async () => {
    t = await appFor(`auth:\n  bearer_token: ${TOKEN}\n`);
    await t.app.inject({ url: '/health' });
    expect(healthLines(t)).toHaveLength(0); // probe lines are DEBUG

    const res = await t.app.inject({ method: 'POST', url: '/admin/logging', headers: auth, payload: { level: 'DEBUG' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ level: 'debug', configured_level: 'info', override: { level: 'debug', expires_at: null } });
    await t.app.inject({ url: '/health' });
    expect(healthLines(t)).toHaveLength(1);
    expect((await t.app.inject({ url: '/admin/logging', headers: auth })).json().level).toBe('debug');

    await t.app.inject({ method: 'POST', url: '/admin/logging', headers: auth, payload: { level: 'error' } });
    await t.app.inject({ url: '/v1/models', headers: auth });
    expect(t.output.lines().filter((l) => l.path === '/v1/models')).toHaveLength(0);
  });

  it("takes the design's query form, POST /admin/logging?level=DEBUG, and answers status success", async () => {
    t = await appFor(`auth:\n  bearer_token: ${TOKEN}\n`);
    const res = await t.app.inject({ method: 'POST', url: '/admin/logging?level=DEBUG', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'success', level: 'debug', override: { level: 'debug', expires_at: null } });
    expect(t.logs.logger.level).toBe('debug');
    const timed = await t.app.inject({ method: 'POST', url: '/admin/logging?level=warning&ttl_seconds=60', headers: auth });
    expect(timed.json()).toMatchObject({ status: 'success', level: 'warn', override: { expires_at: expect.any(String) } });
    const bad = await t.app.inject({ method: 'POST', url: '/admin/logging?level=loud', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('unknown level "loud"');
  });

  it('reverts to the configured level after the TTL', async () => {
    t = await appFor(`auth:\n  bearer_token: ${TOKEN}\n`);
    const res = await t.app.inject({ method: 'POST', url: '/admin/logging', headers: auth, payload: { level: 'debug', ttl_seconds: 1 } });
    expect(res.json().override.expires_at).toEqual(expect.any(String));
    await t.app.inject({ url: '/health' });
    expect(healthLines(t)).toHaveLength(1);
    await waitFor(() => t!.logs.logger.level === 'info', 2000);
    await t.app.inject({ url: '/health' });
    expect(healthLines(t)).toHaveLength(1);
    expect(t.output.lines().some((l) => l.msg === 'log level override expired' && l.to === 'info')).toBe(true);
    expect((await t.app.inject({ url: '/admin/logging', headers: auth })).json()).toMatchObject({ level: 'info', override: null });
  });

  it('rejects unknown levels and bad TTLs with 400', async () => {
    t = await appFor(`auth:\n  bearer_token: ${TOKEN}\n`);
    for (const payload of [{ level: 'loud' }, { level: 'debug', ttl_seconds: -1 }, { ttl_seconds: 5 }, { level: 'debug', extra: 1 }]) {
      const res = await t.app.inject({ method: 'POST', url: '/admin/logging', headers: auth, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect(t.logs.logger.level).toBe('info');
  });

  it('a config reload applies logging.level (and ends an override)', async () => {
    g = await startTestGateway(`auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: info\n`);
    g.gw.logs.setOverride('trace', 600);
    await g.writeConfig(`auth:\n  bearer_token: ${TOKEN}\nlogging:\n  level: warn\n`);
    await waitFor(() => g!.gw.store.current().version === 2, 1000);
    expect(g.gw.logs.status()).toMatchObject({ level: 'warn', configured_level: 'warn', override: null });
  });
});

describe('formats and files', () => {
  it("text lines read like the design's: time | LEVEL | request | model | status | duration, then extra fields", () => {
    const time = new Date(2026, 0, 31, 14, 30, 25).getTime();
    const json = JSON.stringify({ level: 'info', time, reqId: 'req-1', method: 'POST', path: '/v1/chat/completions', status: 200, duration_ms: 1200, model: 'gemini-2.5-pro', provider: 'gemini', tokens: { input: 12, output: 150 }, msg: 'POST /v1/chat/completions | gemini-2.5-pro | 200 | 1.200s' });
    expect(formatTextLine(json)).toBe('2026-01-31 14:30:25 | INFO | POST /v1/chat/completions | gemini-2.5-pro | 200 | 1.200s | reqId=req-1 provider=gemini tokens={"input":12,"output":150}\n');
    const warn = JSON.stringify({ level: 'warn', time, module: 'config', changed: ['auth.bearer_token'], msg: 'config reloaded' });
    expect(formatTextLine(warn)).toBe('2026-01-31 14:30:25 | WARNING | config reloaded | module=config changed=["auth.bearer_token"]\n');
  });

  it('text format writes one readable line per entry, switchable by reload', async () => {
    g = await startTestGateway(`auth:\n  bearer_token: ${TOKEN}\nlogging:\n  format: text\n`);
    await fetch(`${g.gw.url}/v1/models`, { headers: auth });
    await waitFor(() => g!.logs.text.includes('GET /v1/models'));
    const line = g.logs.text.split('\n').find((l) => l.includes('GET /v1/models'))!;
    // The design's line first (time | level | method path | model | status | duration), then the rest.
    expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| INFO \| GET \/v1\/models \| - \| 200 \| \d+\.\d{3}s \| .*client=default/);
    expect(line).not.toMatch(/path=|duration_ms=/);

    await g.writeConfig(`auth:\n  bearer_token: ${TOKEN}\nlogging:\n  format: json\n`);
    await waitFor(() => g!.gw.store.current().version === 2, 1000);
    g.logs.clear();
    await fetch(`${g.gw.url}/v1/models`, { headers: auth });
    await waitFor(() => g!.logs.lines().some((l) => l.path === '/v1/models'));
  });

  it('writes to the file logging.file names and rotates it by size to gateway.1.log …', async () => {
    g = await startTestGateway((dir) => `auth:\n  bearer_token: ${TOKEN}\nlogging:\n  file: ${path.join(dir, 'logs', 'gateway.log')}\n  rotation: 2 KB\n  max_files: 3\n`);
    const file = path.join(g.dir, 'logs', 'gateway.log');
    await fetch(`${g.gw.url}/v1/models`, { headers: auth });
    await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).includes('"path":"/v1/models"'));
    for (let i = 0; i < 40; i++) await fetch(`${g.gw.url}/v1/models`, { headers: auth });
    await new Promise((r) => setTimeout(r, 100));
    const files = (await readdir(path.dirname(file))).sort();
    // The named file (current) plus at most max_files rotated ones, numbered newest first.
    expect(files).toContain('gateway.log');
    expect(files).toContain('gateway.1.log');
    expect(files.length).toBeLessThanOrEqual(4);
    for (const f of files) expect(f).toMatch(/^gateway(\.[123])?\.log$/);
    const contents = await Promise.all(files.map((f) => readFile(path.join(path.dirname(file), f), 'utf8')));
    expect(contents.join('')).toContain('"path":"/v1/models"');
    // The size is checked after buffered writes, so a file can pass 2 KB by a few lines.
    for (const content of contents) expect(Buffer.byteLength(content)).toBeLessThan(16 * 1024);
  });
});

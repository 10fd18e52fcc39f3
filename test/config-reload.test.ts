import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { parseConfigText } from '../src/config/load.js';
import { ConfigStore } from '../src/config/store.js';
import { LogManager } from '../src/logging/log-manager.js';
import { SecretRegistry } from '../src/secrets.js';
import { CaptureStream } from './helpers/capture.js';
import { startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const config = (token: string, extra = '') => `auth:\n  bearer_token: ${token}\n${extra}`;

async function status(t: TestGateway, token: string, path = '/v1/models'): Promise<number> {
  const res = await fetch(`${t.gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('config hot reload', () => {
  it('applies a file saved by rename within 1 s', async () => {
    t = await startTestGateway(config('first-token-aaaa'));
    expect(await status(t, 'first-token-aaaa')).toBe(200);
    const started = Date.now();
    await t.writeConfig(config('second-token-bbbb'));
    await waitFor(() => t!.gw.store.current().version === 2, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await status(t, 'second-token-bbbb')).toBe(200);
    expect(await status(t, 'first-token-aaaa')).toBe(401);
    expect(t.logs.lines().some((l) => l.msg === 'config reloaded' && (l.changed as string[]).includes('auth.bearer_token'))).toBe(true);
  });

  it('warns, naming both, when an edited key is overridden by an environment variable (BEARER_TOKEN, COOKIE_PATH)', async () => {
    const env = { BEARER_TOKEN: 'env-token-cccccccc', COOKIE_PATH: '/tmp/env-cookies.json' };
    t = await startTestGateway(config('file-token-aaaa', 'gemini:\n  cookie_path: /tmp/a.json\n'), { env });
    await t.writeConfig(config('file-token-bbbb', 'gemini:\n  cookie_path: /tmp/b.json\n'));
    await waitFor(() => t!.gw.store.current().version === 2, 1000);
    const warnings = t.logs.lines().filter((l) => l.level === 'warn' && typeof l.env === 'string');
    expect(warnings.map((l) => [l.key, l.env])).toEqual([
      ['auth.bearer_token', 'BEARER_TOKEN'],
      ['gemini.cookie_path', 'COOKIE_PATH'],
    ]);
    expect(warnings[0]!.msg).toContain('auth.bearer_token changed in the config file, but the environment variable BEARER_TOKEN overrides it');
    // The environment still wins, and no token value reaches the log.
    expect(await status(t, 'env-token-cccccccc')).toBe(200);
    expect(await status(t, 'file-token-bbbb')).toBe(401);
    expect(t.logs.text).not.toMatch(/file-token-|env-token-/);

    // An edit of other keys says nothing about the shadowed ones.
    t.logs.clear();
    await t.writeConfig(config('file-token-bbbb', 'gemini:\n  cookie_path: /tmp/b.json\nlogging:\n  level: debug\n'));
    await waitFor(() => t!.gw.store.current().version === 3, 1000);
    expect(t.logs.lines().filter((l) => typeof l.env === 'string')).toEqual([]);
  });

  it('applies a file rewritten in place, and more than once', async () => {
    t = await startTestGateway(config('first-token-aaaa'));
    await writeFile(t.configPath, config('second-token-bbbb'));
    await waitFor(() => t!.gw.store.current().config.auth.bearer_token === 'second-token-bbbb', 1000);
    await writeFile(t.configPath, config('third-token-cccc'));
    await waitFor(() => t!.gw.store.current().config.auth.bearer_token === 'third-token-cccc', 1000);
    expect(await status(t, 'third-token-cccc')).toBe(200);
  });

  it('keeps serving the old config when an edit is invalid, and reports it', async () => {
    t = await startTestGateway(config('good-token-aaaa'));
    await t.writeConfig(config('other-token-bbbb', 'logging:\n  level: shouting\n'));
    await waitFor(() => t!.gw.store.last.ok === false, 1000);
    expect(t.gw.store.current().version).toBe(1);
    expect(await status(t, 'good-token-aaaa')).toBe(200);
    expect(await status(t, 'other-token-bbbb')).toBe(401);
    const failure = t.logs.lines().find((l) => l.level === 'error' && String(l.msg).startsWith('config reload failed'));
    expect(failure?.msg).toContain('logging.level: unknown level "shouting"');
    // A fixed file is picked up again.
    await t.writeConfig(config('other-token-bbbb'));
    await waitFor(() => t!.gw.store.current().version === 2, 1000);
    expect(await status(t, 'other-token-bbbb')).toBe(200);
  });

  it('reloads through POST /admin/config/reload and answers 400 with details when invalid', async () => {
    t = await startTestGateway(config('admin-test-token', 'logging:\n  level: info\n'), { watch: { debounceMs: 60_000, pollIntervalMs: 60_000 } });
    const reload = () =>
      fetch(`${t!.gw.url}/admin/config/reload`, { method: 'POST', headers: { authorization: 'Bearer admin-test-token' } });

    await writeFile(t.configPath, config('admin-test-token', 'logging:\n  level: warn\n'));
    let res = await reload();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'reloaded', version: 2, changed: ['logging.level'], restart_required: [] });
    expect(t.gw.logs.logger.level).toBe('warn');

    await writeFile(t.configPath, config('admin-test-token', 'gemini:\n  refresh_interval: 5\n'));
    res = await reload();
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: Array<{ path: string }> } };
    expect(body.error.code).toBe('invalid_config');
    expect(body.error.details[0]!.path).toBe('gemini.refresh_interval');
    expect(body.error.message).toContain('gemini.refresh_interval: must be at least 60 seconds');
    expect(t.gw.store.current().version).toBe(2);
  });

  it('does not apply server.host / server.port changes and says a restart is required', async () => {
    // No SERVER_PORT override here, so the file's port counts.
    t = await startTestGateway(config('restart-token-aa', 'server:\n  port: 0\n'), {
      env: { SERVER_PORT: '' },
      watch: { debounceMs: 60_000, pollIntervalMs: 60_000 },
    });
    const port = t.gw.port;
    await writeFile(t.configPath, config('restart-token-aa', 'server:\n  port: 12345\n  shutdown_timeout: 3\n'));
    const result = await t.gw.reload('admin');
    expect(result).toMatchObject({ ok: true, changed: ['server.port', 'server.shutdown_timeout'], restartRequired: ['server.port'] });
    expect(t.gw.store.current().config.server).toMatchObject({ port: 0, shutdown_timeout: 3 });
    expect(t.gw.port).toBe(port);
    expect(await status(t, 'restart-token-aa')).toBe(200);
    expect(t.logs.text).toContain('server.port changed: restart required, not applied');
  });

  it('never lets a reload open a gateway bound to a public interface', async () => {
    t = await startTestGateway(config('public-token-aaaa'), { env: { SERVER_HOST: '0.0.0.0' }, watch: { debounceMs: 60_000, pollIntervalMs: 60_000 } });
    expect(t.gw.host).toBe('0.0.0.0');
    await writeFile(t.configPath, 'logging:\n  level: info\n');
    const result = await t.gw.reload('admin');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]).toMatchObject({ path: 'auth.bearer_token' });
    expect(result.issues[0]!.message).toContain('required while listening on 0.0.0.0');
  });

  it('binds loopback only and warns when no token is configured', async () => {
    t = await startTestGateway(undefined, { env: { SERVER_HOST: '0.0.0.0' } });
    expect(t.gw.host).toBe('127.0.0.1');
    const address = t.gw.app.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    expect(t.logs.lines().find((l) => l.level === 'warn')?.msg).toContain('NO AUTH TOKEN CONFIGURED');
    // Open on loopback: no token needed.
    expect((await fetch(`${t.gw.url}/v1/models`)).status).toBe(200);
  });
});

describe('requests in flight', () => {
  it('finish with the config they started with', async () => {
    const loaded = parseConfigText(config('inflight-token-1'), {});
    if (!loaded.ok) throw new Error('bad fixture');
    const file = `/nonexistent-dir-${process.pid}/config.yaml`;
    const env: Record<string, string> = {};
    const store = new ConfigStore(file, loaded, env);
    const logs = new LogManager({ secrets: new SecretRegistry(), stdout: new CaptureStream() });
    const app = await buildApp({ store, logs });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    app.get('/test/slow', async (request) => {
      await gate;
      return { token: request.ctx.snapshot.config.auth.bearer_token, version: request.ctx.snapshot.version };
    });
    const pending = app.inject({ url: '/test/slow', headers: { authorization: 'Bearer inflight-token-1' } });
    await new Promise((r) => setTimeout(r, 20));
    // Swap in a new config (no file: defaults + env) while the request waits.
    env.BEARER_TOKEN = 'inflight-token-2';
    const result = await store.reload('admin');
    expect(result.ok).toBe(true);
    release();
    const res = await pending;
    expect(res.json()).toEqual({ token: 'inflight-token-1', version: 1 });
    const after = await app.inject({ url: '/test/slow', headers: { authorization: 'Bearer inflight-token-2' } });
    expect(after.json()).toEqual({ token: 'inflight-token-2', version: 2 });
    await app.close();
  });
});

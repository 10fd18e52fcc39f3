import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Provider } from '../src/core/provider.js';
import { StaticProviderRegistry } from './helpers/scripted-provider.js';
import { appFor, type TestApp } from './helpers/app.js';
import { authenticate } from '../src/http/auth.js';

const CLIENT = 'client-token-0123456789';
const SECOND = 'second-token-abcdefghij';
const ADMIN = 'admin-token-zyxwvutsrq';

let t: TestApp;
beforeAll(async () => {
  t = await appFor(`gemini:\n  enabled: false\ng4f:\n  enabled: false\nauth:\n  bearer_token: ${CLIENT}\n  tokens:\n    - ${SECOND}\n    - name: ci\n      token: ci-token-0000000000\n  admin_token: ${ADMIN}\n`);
});
afterAll(() => t.app.close());

const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });
const post = (url: string, headers: Record<string, string> = {}, payload: unknown = {}) =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });

describe('authentication', () => {
  it('accepts Authorization: Bearer and x-api-key', async () => {
    expect((await get('/v1/models', { authorization: `Bearer ${CLIENT}` })).statusCode).toBe(200);
    expect((await get('/v1/models', { authorization: `bearer ${SECOND}` })).statusCode).toBe(200);
    expect((await get('/v1/models', { 'x-api-key': CLIENT })).statusCode).toBe(200);
    expect((await get('/v1/models', { 'x-api-key': 'ci-token-0000000000' })).statusCode).toBe(200);
  });

  it('accepts a request carrying both headers when either one is valid (Claude Code with both env vars)', async () => {
    expect((await get('/v1/models', { authorization: 'Bearer wrong-token', 'x-api-key': CLIENT })).statusCode).toBe(200);
    expect((await get('/v1/models', { authorization: `Bearer ${CLIENT}`, 'x-api-key': 'wrong' })).statusCode).toBe(200);
  });

  it('answers 401 in the OpenAI envelope on OpenAI routes', async () => {
    for (const res of [
      await post('/v1/chat/completions', { authorization: 'Bearer nope' }),
      await post('/v1/responses', {}),
      await get('/v1/models', { 'x-api-key': `${CLIENT}x` }),
    ]) {
      expect(res.statusCode).toBe(401);
      const body = res.json();
      expect(body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
  });

  it('answers 401 in the Anthropic envelope on Anthropic routes', async () => {
    for (const res of [
      await post('/v1/messages', { 'x-api-key': 'nope', 'anthropic-version': '2023-06-01' }),
      await post('/v1/messages/count_tokens', {}),
      await post('/v1/messages?beta=true', { authorization: 'Bearer nope' }),
      await get('/v1/claude/models', {}),
      await get('/v1/models', { 'anthropic-version': '2023-06-01', 'x-api-key': 'nope' }),
    ]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } });
    }
  });

  it('protects /admin with the admin token when one is set', async () => {
    expect((await get('/admin/logging', { authorization: `Bearer ${ADMIN}` })).statusCode).toBe(200);
    const withClient = await get('/admin/logging', { authorization: `Bearer ${CLIENT}` });
    expect(withClient.statusCode).toBe(403);
    expect(withClient.json().error.code).toBe('admin_token_required');
    expect((await get('/admin/logging')).statusCode).toBe(401);
    // The admin token is not a client token.
    expect((await get('/v1/models', { authorization: `Bearer ${ADMIN}` })).statusCode).toBe(401);
  });

  it('lets client tokens use /admin when no admin token is set', async () => {
    const open = await appFor(`auth:\n  bearer_token: ${CLIENT}\n`);
    expect((await open.app.inject({ url: '/admin/logging', headers: { 'x-api-key': CLIENT } })).statusCode).toBe(200);
    expect((await open.app.inject({ url: '/admin/logging', headers: { 'x-api-key': 'bad' } })).statusCode).toBe(401);
    await open.app.close();
  });

  it('leaves /health and /ready public and reveals no secret there', async () => {
    const health = await get('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json().status).toBe('ok');
    const ready = await get('/ready');
    expect(ready.statusCode).toBe(503); // every upstream disabled in this app
    for (const body of [health.body, ready.body]) {
      for (const secret of [CLIENT, SECOND, ADMIN]) expect(body).not.toContain(secret);
    }
  });

  it('/ready is 200 once one upstream is usable', async () => {
    const provider = (id: string, usable: boolean): Provider => ({
      id,
      capabilities: { nativeTools: true },
      stream: async function* () {},
      listModels: async () => [],
      health: () => ({ state: usable ? 'ok' : 'unavailable', usable, detail: 'cookie sid=SECRETVALUE' }),
    });
    const withProviders = await appFor(`auth:\n  bearer_token: ${CLIENT}\n`, {
      providers: new StaticProviderRegistry([provider('gemini', false), provider('g4f', true)]),
    });
    const ready = await withProviders.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      upstreams: [
        { id: 'gemini', state: 'unavailable', usable: false },
        { id: 'g4f', state: 'ok', usable: true },
      ],
    });
    expect(ready.body).not.toContain('SECRETVALUE');
    await withProviders.app.close();
  });
});

describe('authentication on a keep-alive connection (digest reused per connection)', () => {
  const auth = (tokens: string[]) => ({ bearer_token: CLIENT, tokens, admin_token: ADMIN }) as unknown as Parameters<typeof authenticate>[2];
  const check = (headers: Record<string, string>, connection: object, config = auth([SECOND])) => {
    try {
      return authenticate('client', headers, config, connection).tokenName;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('rejects a different token on the connection that presented a valid one, of any length', () => {
    const connection = {};
    expect(check({ authorization: `Bearer ${CLIENT}` }, connection)).toBe('default');
    expect(check({ authorization: `Bearer ${CLIENT}` }, connection)).toBe('default');
    const sameLength = `${CLIENT.slice(0, -1)}X`;
    expect(check({ authorization: `Bearer ${sameLength}` }, connection)).toBe('Invalid API key');
    expect(check({ authorization: `Bearer ${CLIENT}x` }, connection)).toBe('Invalid API key');
    expect(check({ authorization: `Bearer ${CLIENT.slice(0, 5)}` }, connection)).toBe('Invalid API key');
    expect(check({ authorization: `Bearer ${CLIENT}` }, connection)).toBe('default');
    expect(check({ authorization: `Bearer ${SECOND}` }, connection)).toBe('token-1');
  });

  it('keeps the two headers apart, and takes a reloaded token list (the cache holds digests, not outcomes)', () => {
    const connection = {};
    expect(check({ authorization: 'Bearer wrong-token', 'x-api-key': SECOND }, connection)).toBe('token-1');
    expect(check({ authorization: `Bearer ${SECOND}`, 'x-api-key': 'wrong-token' }, connection)).toBe('token-1');
    expect(check({ authorization: 'Bearer wrong-token', 'x-api-key': SECOND }, connection, auth([]))).toBe('Invalid API key');
    expect(check({ authorization: `Bearer ${CLIENT}` }, connection, auth([]))).toBe('default');
  });

  it('handles tokens past the padded size and multi-byte tokens', () => {
    const connection = {};
    const long = `sk-${'a'.repeat(400)}`;
    const wide = 'jeton-été-密钥-🔑-0123';
    expect(check({ 'x-api-key': long }, connection, auth([long, wide]))).toBe('token-1');
    expect(check({ 'x-api-key': `${long.slice(0, -1)}b` }, connection, auth([long, wide]))).toBe('Invalid API key');
    expect(check({ 'x-api-key': wide }, connection, auth([long, wide]))).toBe('token-2');
    expect(check({ 'x-api-key': wide.replace('🔑', '🔒') }, connection, auth([long, wide]))).toBe('Invalid API key');
    expect(check({ 'x-api-key': wide }, connection, auth([long, wide]))).toBe('token-2');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFor, type TestApp } from './helpers/app.js';

const TOKEN = 'errors-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let t: TestApp;
beforeAll(async () => {
  t = await appFor(`auth:\n  bearer_token: ${TOKEN}\nserver:\n  body_limit: 1 KB\n`);
});
afterAll(() => t.app.close());

describe('error envelopes', () => {
  it('answers unknown routes with 404 in the OpenAI shape', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/nothing-here', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { message: 'Unknown route: POST /v1/nothing-here', type: 'invalid_request_error', param: null, code: 'unknown_route' },
    });
  });

  it('answers malformed JSON with 400, never 500', async () => {
    for (const payload of ['{"model": ', '{bad json}', '[1,2', '{"__proto__": {"x": 1}}']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.type).toBe('invalid_request_error');
    }
    const anthropic = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"messages": [',
    });
    expect(anthropic.statusCode).toBe(400);
    expect(anthropic.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('JSON') } });
  });

  it('answers an empty JSON body with 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(400);
  });

  it('answers a body over the limit with 413 in the protocol shape', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(4096) });
    const openai = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'content-type': 'application/json' }, payload: big });
    expect(openai.statusCode).toBe(413);
    expect(openai.json().error.code).toBe('request_too_large');
    const anthropic = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { ...auth, 'content-type': 'application/json' }, payload: big });
    expect(anthropic.statusCode).toBe(413);
    expect(anthropic.json().error.type).toBe('request_too_large');
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('hides the text of unexpected errors and logs them', async () => {
    const app = (await appFor(`auth:\n  bearer_token: ${TOKEN}\n`)).app;
    app.get('/v1/boom', async () => {
      throw new Error('internal detail /etc/secret-path');
    });
    const res = await app.inject({ url: '/v1/boom', headers: auth });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ type: 'server_error', message: 'Internal gateway error' });
    expect(res.body).not.toContain('secret-path');
    await app.close();
  });
});

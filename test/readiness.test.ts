// /ready reflects a real, cached probe of each HTTP upstream: nothing listening at g4f's URL is not ready.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeUpstream } from './fakes/openai-upstream.js';
import { appFor, type TestApp } from './helpers/app.js';

let t: TestApp | undefined;
let upstream: FakeUpstream | undefined;
afterEach(async () => {
  await t?.app.close();
  await upstream?.stop();
  t = undefined;
  upstream = undefined;
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const config = (baseUrl: string) => `auth:\n  bearer_token: ready-token-0123456789\ngemini:\n  enabled: false\ng4f:\n  base_url: ${baseUrl}\n`;

describe('/ready', () => {
  it('is 503 with g4f unavailable when nothing listens at its URL', async () => {
    t = await appFor(config(`http://127.0.0.1:${await closedPort()}/v1`));
    const ready = await t.app.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'not_ready', upstreams: [{ id: 'g4f', state: 'unavailable', usable: false }] });
  });

  it('is 200 when g4f answers, and probes at most once per few seconds', async () => {
    upstream = await new FakeUpstream().start();
    upstream.handler = () => ({ status: 200, json: { object: 'list', data: [{ id: 'gpt-4o' }] } });
    t = await appFor(config(`${upstream.url}/v1`));
    for (let i = 0; i < 3; i++) {
      const ready = await t.app.inject({ url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready', upstreams: [{ id: 'g4f', state: 'ok', usable: true }] });
    }
    expect(upstream.received.filter((r) => r.path === '/v1/models')).toHaveLength(1);
  });

  it('counts any HTTP answer (a 401 from a server wanting a key) as something listening', async () => {
    upstream = await new FakeUpstream().start();
    upstream.handler = () => ({ status: 401, json: { error: { message: 'no key' } } });
    t = await appFor(config(`${upstream.url}/v1`));
    expect((await t.app.inject({ url: '/ready' })).statusCode).toBe(200);
  });
});

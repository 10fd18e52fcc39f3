// Security properties: no route is open by accident, admin routes need the admin token, per-token
// rate limits, no secret in any answer, cookie files never torn by a crash, no path chosen by input,
// signed image links expire.
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageLinks } from '../src/providers/gemini-web/image-links.js';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { appFor, type TestApp } from './helpers/app.js';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const CLIENT = 'sec-client-token-0123456789';
const ADMIN = 'sec-admin-token-9876543210';

/** Routes that answer without a token, on purpose. Adding a public route means adding it here. */
const PUBLIC = ['GET /health', 'GET /ready', 'GET /images/:token', 'GET /metrics', 'GET /admin', 'GET /admin/', 'GET /admin/ui/app.js', 'GET /admin/ui/style.css', 'GET /admin/ui/vendor/uPlot.iife.min.js', 'GET /admin/ui/vendor/uPlot.min.css'];

let t: TestApp | undefined;
let g: TestGateway | undefined;
afterEach(async () => {
  await t?.app.close();
  await g?.stop();
  t = undefined;
  g = undefined;
});

describe('every route needs a token unless it is on the public list', () => {
  it('enumerates the app\'s routes', async () => {
    t = await appFor(`auth:\n  bearer_token: ${CLIENT}\n  admin_token: ${ADMIN}\n`);
    await t.app.ready();
    const routes = t.app.gatewayRoutes;
    expect(routes.length).toBeGreaterThan(20);
    const publicRoutes = routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual([...PUBLIC].sort());
    for (const route of routes) {
      const url = route.url.replace(':token', 'not-a-token');
      const key = `${route.method} ${route.url}`;
      const anonymous = await t.app.inject({ method: route.method as 'GET', url });
      if (PUBLIC.includes(key)) {
        // /metrics checks the admin token itself unless metrics.public.
        if (key === 'GET /metrics') expect(anonymous.statusCode, key).toBe(401);
        continue;
      }
      expect(anonymous.statusCode, key).toBe(401);
      if (route.access === 'admin') {
        const client = await t.app.inject({ method: route.method as 'GET', url, headers: { authorization: `Bearer ${CLIENT}` } });
        expect(client.statusCode, `${key} with a client token`).toBe(403);
      }
    }
  });
});

describe('per-token rate limit', () => {
  it('answers 429 with Retry-After past auth.rate_limit, per token', async () => {
    t = await appFor(`auth:\n  bearer_token: ${CLIENT}\n  tokens: [other-token-000000]\n  rate_limit: 3\n`);
    const call = (token: string) => t!.app.inject({ url: '/v1/models', headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) expect((await call(CLIENT)).statusCode).toBe(200);
    const limited = await call(CLIENT);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json().error.code).toBe('rate_limit_exceeded');
    expect((await call('other-token-000000')).statusCode).toBe(200);
  });
});

describe('secrets never leave', () => {
  it('no token or cookie value in any answer, status page, metrics or log, at debug level', async () => {
    const fake = await new FakeGemini().start();
    try {
      g = await startTestGateway(
        (dir) =>
          `auth:\n  bearer_token: ${CLIENT}\n  admin_token: ${ADMIN}\nlogging:\n  level: debug\ng4f:\n  api_key: g4f-secret-key-0123456\n  base_url: http://127.0.0.1:9/v1\n` +
          `gemini:\n  cookie_path: ${path.join(dir, 'c.json')}\n  endpoints:\n    gemini: ${fake.url}\n    accounts: ${fake.url}\n    upload: ${fake.url}\n    google: ${fake.url}\n`,
        { files: { 'c.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } },
      );
      const admin = { authorization: `Bearer ${ADMIN}` };
      const client = { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' };
      const bodies: string[] = [];
      const get = async (url: string, headers: Record<string, string>, init: RequestInit = {}) => bodies.push(await (await fetch(`${g!.gw.url}${url}`, { headers, ...init })).text());
      await get('/v1/chat/completions', client, { method: 'POST', body: JSON.stringify({ model: 'gemini-3-pro', messages: [{ role: 'user', content: 'hi' }] }) });
      await get('/v1/chat/completions', client, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) }); // g4f down: an error
      await get('/v1/messages', { 'x-api-key': 'wrong-key', 'content-type': 'application/json' }, { method: 'POST', body: '{}' });
      for (const url of ['/admin/cookies/status', '/admin/config', '/admin/routes', '/admin/requests', '/metrics', '/admin/logging', '/ready', '/health']) await get(url, admin);
      await get('/admin/cookies/rotate', { ...admin, 'content-type': 'application/json' }, { method: 'POST', body: '{}' });
      await get('/admin/cookies/status', admin);
      const rotated = fake.accounts.get(PSID)!.psidts;
      await g.gw.close(1000);
      const everything = bodies.join('\n') + g.logs.text;
      expect(everything).toContain('gemini_accounts'); // metrics were read
      for (const secret of [CLIENT, ADMIN, 'g4f-secret-key-0123456', PSID, PSIDTS, rotated]) expect(everything, secret).not.toContain(secret);
    } finally {
      await fake.stop();
    }
  });
});

describe('files', () => {
  it('a crash (kill -9) while the cookie file is rewritten leaves the old or the new file, never a torn one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gw-atomic-'));
    const file = path.join(dir, 'cookies.json');
    const a = { '__Secure-1PSID': `g.a000${'A'.repeat(3000)}`, '__Secure-1PSIDTS': 'sidts-A' };
    const b = { '__Secure-1PSID': `g.a000${'B'.repeat(3000)}`, '__Secure-1PSIDTS': 'sidts-B' };
    await writeFile(file, JSON.stringify(a));
    const writer = path.join(dir, 'writer.mjs');
    const module = path.resolve('dist/providers/gemini-web/cookie-file.js');
    await writeFile(
      writer,
      `import { saveCookieFile } from ${JSON.stringify(module)};\nconst sets = ${JSON.stringify([a, b])};\nfor (let i = 0; ; i++) {\n  await saveCookieFile(${JSON.stringify(file)}, { cookies: sets[i % 2] });\n  if (i === 1) process.send('writing');\n}\n`,
    );
    const seen = new Set<string>();
    try {
      for (let round = 0; round < 15; round++) {
        const child = fork(writer, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
        // Kill at a random moment once the rewrites are under way (start-up time varies with load).
        await new Promise((r) => child.once('message', r));
        await new Promise((r) => setTimeout(r, Math.random() * 20));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
        expect([a['__Secure-1PSIDTS'], b['__Secure-1PSIDTS']]).toContain(saved['__Secure-1PSIDTS']);
        expect(saved['__Secure-1PSID']).toBe(saved['__Secure-1PSIDTS'] === 'sidts-A' ? a['__Secure-1PSID'] : b['__Secure-1PSID']);
        seen.add(saved['__Secure-1PSIDTS']!);
      }
      expect(seen.size).toBe(2); // the writer really was interrupted mid-way through its rewrites
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('no admin input chooses a path: accounts are picked by name only', async () => {
    t = await appFor(`auth:\n  bearer_token: ${CLIENT}\n  admin_token: ${ADMIN}\n`);
    for (const account of ['../../etc/passwd', '/etc/passwd', 'default/../x']) {
      const res = await t.app.inject({ method: 'POST', url: `/admin/cookies?account=${encodeURIComponent(account)}`, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/plain' }, payload: `__Secure-1PSID=${PSID}` });
      expect(res.statusCode, account).toBe(404);
      expect(res.json().error.code).toBe('unknown_account');
    }
  });

  it('signed image links expire and cannot be forged', async () => {
    const links = new ImageLinks();
    const token = links.sign('default', 'https://lh3.googleusercontent.com/x', 50);
    expect(links.verify(token)).toEqual({ account: 'default', url: 'https://lh3.googleusercontent.com/x' });
    expect(links.verify(token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBeUndefined();
    expect(new ImageLinks().verify(token)).toBeUndefined(); // another key
    await new Promise((r) => setTimeout(r, 80));
    expect(links.verify(token)).toBeUndefined();
  });
});

// Cookies that last (issue 13): rotation scheduled as the newest peers do it, a device-bound
// session reported as such, every cookie persisted, and alerts to a webhook when an account turns
// expired or recovers. Real HTTP on loopback against the fake.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGemini, PSID } from '../fakes/gemini-web.js';
import { cookieJson, endpointsYaml } from '../helpers/gemini.js';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { runCli } from '../../src/cli.js';

const TOKEN = 'gemini-cookies-token-0000';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let fake: FakeGemini;
let t: TestGateway | undefined;

beforeEach(async () => {
  fake = await new FakeGemini().start();
});
afterEach(async () => {
  await t?.stop();
  t = undefined;
  await fake.stop();
});


async function gateway(extra = '', cookies: string = cookieJson()): Promise<TestGateway> {
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\ng4f:\n  enabled: false\n${extra}` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n${endpointsYaml(fake.url)}`,
    { files: { 'gemini.json': cookies } },
  );
  return t;
}

async function account(): Promise<Record<string, unknown>> {
  const body = (await (await fetch(`${t!.gw.url}/admin/cookies/status`, { headers: auth })).json()) as { accounts: Array<Record<string, unknown>> };
  return body.accounts[0]!;
}

const ask = (content: string) => fetch(`${t!.gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'gemini-3.6-flash', messages: [{ role: 'user', content }] }) });

describe('rotation', () => {
  it('plans the first rotation shortly after start (15 s ± 5 s), not a whole interval later', async () => {
    await gateway();
    expect((await ask('hi')).status).toBe(200);
    const next = Date.parse(String((await account()).next_rotation)) - Date.now();
    expect(next).toBeGreaterThan(5_000);
    expect(next).toBeLessThanOrEqual(20_000);
  });

  it('keeps and persists every cookie given and set (SAPISID, the SIDCC family), not only the two __Secure- ones', async () => {
    await gateway('', cookieJson(PSID, { SAPISID: 'sapisid-value-0000', NID: 'nid-value' }));
    const rotate = await fetch(`${t!.gw.url}/admin/cookies/rotate`, { method: 'POST', headers: auth, body: '{}' });
    expect(((await rotate.json()) as { rotation: { result: string } }).rotation.result).toBe('rotated');
    const saved = JSON.parse(await readFile(path.join(t!.dir, 'gemini.json'), 'utf8')) as Record<string, string>;
    expect(saved).toMatchObject({ SAPISID: 'sapisid-value-0000', NID: expect.any(String) }); // NID as Google last set it
    expect(saved['__Secure-1PSIDCC'], 'the cookie RotateCookies set').toBeTruthy();
    expect(saved['__Secure-1PSIDTS']).toMatch(/^sidts-rotated-/);
  });

  it('reports a session bound to the browser (rotation gives no new __Secure-1PSIDTS) with what to do', async () => {
    await gateway();
    fake.rotation = 'no-sidts';
    await fetch(`${t!.gw.url}/admin/cookies/rotate`, { method: 'POST', headers: auth, body: '{}' });
    const status = await account();
    expect(status.device_bound).toBe(true);
    expect(String(status.hint)).toMatch(/bound to the browser: re-export from Firefox or use the cookie-sync extension/);
    expect(t!.logs.lines().some((l) => String(l.msg).includes('bound to the browser'))).toBe(true);
    const ready = (await (await fetch(`${t!.gw.url}/ready`)).json()) as { upstreams: Array<{ id: string; accounts: Array<{ hint?: string }> }> };
    expect(ready.upstreams.find((u) => u.id === 'gemini')!.accounts[0]!.hint).toMatch(/bound to the browser/);
    const lines: string[] = [];
    await runCli(['doctor'], (l) => lines.push(l), { CONFIG_PATH: t!.configPath });
    expect(lines.join('\n')).toMatch(/✗ cookie rotation: answered without a new __Secure-1PSIDTS: bound to the browser/);
  });
});

describe('alerts.webhook_url', () => {
  it('POSTs JSON when the account turns expired and when new cookies bring it back', async () => {
    const received: Array<Record<string, unknown>> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook/secret-path`;
    try {
      await gateway(`alerts:\n  webhook_url: ${url}\n`, cookieJson('g.a000UnknownPsid000000000000000000000000000'));
      expect((await ask('hi')).status).toBe(502);
      await waitFor(() => received.length >= 1, 3000);
      expect(received[0]).toMatchObject({ event: 'account_state', provider: 'gemini', account: 'default', state: 'expired' });
      const paste = await fetch(`${t!.gw.url}/admin/cookies`, { method: 'POST', headers: auth, body: cookieJson() });
      expect(paste.status).toBe(200);
      await waitFor(() => received.length >= 2, 3000);
      expect(received[1]).toMatchObject({ account: 'default', previous: 'expired', state: 'ok' });
      // The webhook's path (often its secret) is not shown in the config view.
      const view = await (await fetch(`${t!.gw.url}/admin/config`, { headers: auth })).text();
      expect(view).not.toContain('secret-path');
    } finally {
      receiver.close();
    }
  });
});

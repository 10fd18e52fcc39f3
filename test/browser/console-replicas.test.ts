/// <reference lib="dom" />
// Two gateways sharing one real redis-server (loopback) show one picture: traffic split between
// them adds up to the same totals on both consoles (per-minute HINCRBY counters and histogram
// buckets). Their Gemini accounts have no cookies yet: the console says how to add them.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedisServer } from '../helpers/redis-server.js';

const CHROMIUM = '/usr/bin/chromium';
const AVAILABLE = existsSync(CHROMIUM);
if (!AVAILABLE && process.env.CI) throw new Error('chromium missing: .ci/run installs it');

const CLIENT = 'replica-client-token-0123';
const ADMIN = 'replica-admin-token-4567';
const redisPort = 25_000 + Math.floor(Math.random() * 4000);
let redisServer: ChildProcess;
let upstream: FakeUpstream;
const gateways: TestGateway[] = [];
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!AVAILABLE) return;
  redisServer = await startRedisServer(redisPort);
  upstream = await new FakeUpstream().start();
  for (const replica of [0, 1]) {
    gateways.push(
      await startTestGateway(
        (dir) =>
          `auth:\n  bearer_token: ${CLIENT}\n  admin_token: ${ADMIN}\nstate:\n  redis_url: redis://127.0.0.1:${redisPort}/0\n  key_prefix: "console-${redisPort}:"\n` +
          `g4f:\n  base_url: ${upstream.url}/v1\n  models: ["gpt-*"]\n` +
          `gemini:\n  cookie_path: ${path.join(dir, `gemini-${replica}.json`)}\n  models: [gemini-3-flash]\n  auto_refresh: false\n  guest: off\n`,
      ),
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
}, 60_000);

afterAll(async () => {
  if (!AVAILABLE) return;
  await browser?.close();
  for (const g of gateways) await g.stop();
  await upstream?.stop();
  redisServer?.kill('SIGKILL');
});

async function totals(url: string): Promise<{ tile: string; charted: number; model: number }> {
  await page.goto(`${url}/admin/#overview`);
  await page.evaluate((token) => sessionStorage.setItem('gateway-admin-token', token), ADMIN);
  await page.reload();
  await page.waitForSelector('#overview:not([hidden]) #summary [data-value="requests"]');
  return page.evaluate(() => {
    const charts = (window as unknown as { gatewayCharts: Record<string, { raw: Record<string, Array<number | null>> }> }).gatewayCharts;
    const total = (values: Array<number | null> = []) => values.reduce<number>((a, b) => a + (b ?? 0), 0);
    return {
      tile: document.querySelector('#summary [data-value="requests"]')!.textContent!,
      charted: Object.values(charts.requests!.raw).reduce((a, v) => a + total(v), 0),
      model: total(charts.requests!.raw['gpt-4o']),
    };
  });
}

describe.skipIf(!AVAILABLE)('console with two replicas sharing Redis', () => {
  it('shows the same totals on both replicas', async () => {
    const chat = (g: TestGateway) =>
      fetch(`${g.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) }).then((r) => r.status);
    for (const g of [gateways[0]!, gateways[0]!, gateways[0]!, gateways[1]!, gateways[1]!]) expect(await chat(g)).toBe(200);
    // Each replica flushes its counters within a second.
    await expect.poll(async () => (await totals(gateways[0]!.gw.url)).tile, { timeout: 5000, interval: 500 }).toBe('5');
    const a = await totals(gateways[0]!.gw.url);
    const b = await totals(gateways[1]!.gw.url);
    expect(a).toEqual({ tile: '5', charted: 5, model: 5 });
    expect(b).toEqual(a);
    const usage = await (await fetch(`${gateways[1]!.gw.url}/admin/usage?minutes=5`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
    expect(usage.backend).toBe('redis');
    expect(usage.summary.upstreams.g4f.requests).toBe(5);
  });

  it('says how to add cookies when an account has none', async () => {
    await page.click('nav [data-view="accounts"]');
    await expect.poll(() => page.textContent('#account-notices')).toContain('No cookies yet for "default"');
    expect(await page.textContent('#account-notices')).toContain('paste them on the Accounts page and press Save');
    await page.click('nav [data-view="overview"]');
    await expect.poll(() => page.textContent('#notices')).toContain('No cookies yet');
    await page.waitForSelector('[data-timeline="default"] .timeline-seg[data-state="no_cookies"]');
    await page.click('nav [data-view="accounts"]');
    await page.screenshot({ path: path.resolve('docs/img/console-no-cookies.png'), fullPage: true });
  });
});

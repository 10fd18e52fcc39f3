/// <reference lib="dom" />
// The admin console in a real browser: Debian's chromium driven by playwright-core. Login, paste
// invalid and valid cookies, watch a request appear, the overview's charts fill with traffic driven
// through the fake Gemini (their data points, not pixels), the live log, switch the log level,
// reload the config, the phone layout, an IP block's notice and timeline.
// Screenshots of each page go to docs/img/ (shown in the README).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { requireSystemPackage } from '../helpers/system-deps.js';

// Debian's chromium (no browser download): playwright-core drives it.
const CHROMIUM = '/usr/bin/chromium';
const AVAILABLE = requireSystemPackage(CHROMIUM, { pkg: 'chromium', tests: 'the admin console browser tests' });

const CLIENT = 'console-client-token-0123';
const ADMIN = 'console-admin-token-4567';
let fake: FakeGemini;
let t: TestGateway;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: path.resolve('docs/img', `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!AVAILABLE) return;
  fake = await new FakeGemini().start();
  fake.reply = () => ({ final: { text: 'OK' } });
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${CLIENT}\n  admin_token: ${ADMIN}\ng4f:\n  enabled: false\n` +
      `routing:\n  aliases:\n    "claude-sonnet-*": gemini-3-pro\n  fallbacks:\n    gemini-3-pro: [gemini-3-flash]\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  models: [gemini-3-pro, gemini-3-flash]\n  endpoints:\n    gemini: ${fake.url}\n    accounts: ${fake.url}\n    upload: ${fake.url}\n    google: ${fake.url}\n`,
    { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS, updated_at: '2026-11-01T00:00:00Z' }) } },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())));
  page.on('pageerror', (error) => void consoleErrors.push(error.message));
}, 60_000);

afterAll(async () => {
  if (!AVAILABLE) return;
  await browser?.close();
  await t.stop();
  await fake.stop();
});

describe.skipIf(!AVAILABLE)('admin console', () => {
  it('refuses a wrong token, logs in with the admin token, shows the accounts', async () => {
    await page.goto(`${t.gw.url}/admin/`);
    // The login page shows no navigation and no "Log out" (nav's display no longer beats [hidden]).
    expect(await page.isVisible('#nav')).toBe(false);
    expect(await page.isVisible('#logout')).toBe(false);
    // "Log in" does not sit flush under the token field.
    const field = (await page.locator('#token').boundingBox())!;
    const button = (await page.locator('#login-form button').boundingBox())!;
    expect(button.y - (field.y + field.height)).toBeGreaterThanOrEqual(10);
    await page.fill('#token', CLIENT); // a client token is not the admin token
    await page.click('#login-form button');
    await expect.poll(() => page.textContent('#login-error')).toContain('not the admin token');
    await shot('console-login');
    await page.fill('#token', ADMIN);
    await page.click('#login-form button');
    // The overview first: no traffic yet says how to send some.
    await page.waitForSelector('#overview:not([hidden]) #summary [data-value="requests"]');
    expect(await page.isVisible('#nav')).toBe(true);
    expect(await page.textContent('#usage-empty')).toContain('No requests in the last 60 minutes');
    expect(await page.textContent('#usage-empty')).toContain('/v1');
    await page.click('nav [data-view="accounts"]');
    await page.waitForSelector('[data-account="default"]');
    expect(await page.textContent('[data-account="default"] .state')).toBe('ok');
    expect(await page.textContent('[data-account="default"] [data-field="psid"]')).toMatch(/^g\.a0…/);
    expect(await page.content()).not.toContain(PSID);
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('shows the error for invalid cookies and keeps the old ones; checks and saves valid ones', async () => {
    const file = path.join(t.dir, 'gemini.json');
    const before = await readFile(file, 'utf8');
    await page.fill('#cookie-text', '__Secure-1PSID=g.a000NotARealCookie0000000000000000000; __Secure-1PSIDTS=x');
    await page.click('#cookie-save');
    await expect.poll(() => page.textContent('#cookie-result')).toContain('old cookies were kept');
    expect(await page.getAttribute('#cookie-result', 'class')).toBe('error');
    expect(await readFile(file, 'utf8')).toBe(before);
    await shot('console-cookies-invalid');

    await page.fill('#cookie-text', JSON.stringify([{ domain: '.google.com', name: '__Secure-1PSID', value: PSID }, { domain: '.google.com', name: '__Secure-1PSIDTS', value: PSIDTS }]));
    await page.click('#cookie-check');
    await expect.poll(() => page.textContent('#cookie-result')).toContain('Valid:');
    expect(await readFile(file, 'utf8')).toBe(before); // checking saves nothing
    await page.click('#cookie-save');
    await expect.poll(() => page.textContent('#cookie-result')).toBe('Saved and in use.');
    expect(JSON.parse(await readFile(file, 'utf8')).updated_at).not.toBe('2026-11-01T00:00:00Z');

    await page.click('[data-test="default"]');
    await expect.poll(() => page.textContent('[data-test-result="default"]')).toMatch(/gemini-3-pro: "OK" in \d+ ms/);
    await shot('console-accounts');
  });

  it('shows the routing table', async () => {
    await page.click('nav [data-view="routes"]');
    await page.waitForSelector('#routes-body table');
    const text = (await page.textContent('#routes-body')) ?? '';
    expect(text).toContain('claude-sonnet-*');
    expect(text).toContain('Then trygemini-3-progemini-3-flash'); // the fallback row
    expect(text).toContain('emulated'); // Gemini's tools are emulated
    // An empty table says "none" instead of a bare header row (no globs in this config).
    const globs = page.locator('#routes-body h3:text-is("Globs") + .scroll tbody');
    expect(await globs.textContent()).toBe('none');
    // Section headings keep their distance from the table above.
    const gaps = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#routes-body h3')).slice(1).map((h) => h.getBoundingClientRect().top - h.previousElementSibling!.getBoundingClientRect().bottom),
    );
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(16);
    await shot('console-routes');
  });

  it('shows a request appear after a chat call (auto-refresh)', async () => {
    await page.click('nav [data-view="requests"]');
    const res = await fetch(`${t.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(200);
    await page.waitForSelector('tr[data-request="/v1/chat/completions"]', { timeout: 8000 });
    const row = (await page.textContent('tr[data-request="/v1/chat/completions"]')) ?? '';
    expect(row).toContain('openai-chat');
    expect(row).toContain('claude-sonnet-4-5');
    expect(row).toContain('gemini');
    expect(row).toContain('200');
    // Local time with the date, not a raw ISO string; durations rounded.
    const cells = await page.locator('tr[data-request="/v1/chat/completions"]').first().locator('td').allTextContents();
    expect(cells[0]).not.toMatch(/\d{4}-\d\d-\d\dT/);
    expect(cells[0]).toMatch(/\d\d:\d\d:\d\d/);
    expect(cells[0]).toMatch(/[A-Za-z]{3}|\d+\/\d+/); // a month or a date
    expect(cells[6]).toMatch(/^(\d+ ms|\d+\.\d\d? s)$/);
    await shot('console-requests');
  });

  it('charts the traffic on the overview: requests by model, errors by kind, tokens, latency, account timeline', async () => {
    const send = (model: string) =>
      fetch(`${t.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }) }).then(async (r) => [r.status, await r.text()] as const);
    for (const model of ['claude-sonnet-4-5', 'claude-sonnet-4-5', 'gemini-3-flash']) expect((await send(model))[0]).toBe(200);
    expect((await send('no-such-model'))[0]).toBe(404);
    await page.click('nav [data-view="overview"]');
    // Totals over the hour: the earlier chat call too (4 served, 1 refused).
    await expect.poll(() => page.textContent('#summary [data-value="requests"]'), { timeout: 5000 }).toBe('5');
    expect(await page.textContent('#summary [data-value="errors"]')).toBe('1');
    const data = await page.evaluate(() => {
      const charts = (window as unknown as { gatewayCharts: Record<string, { raw: Record<string, Array<number | null>>; data: unknown[][]; series: Array<{ label: string }> }> }).gatewayCharts;
      const total = (values: Array<number | null>) => values.reduce<number>((a, b) => a + (b ?? 0), 0);
      const sums = (name: string) => Object.fromEntries(Object.entries(charts[name]!.raw).map(([k, v]) => [k, total(v)]));
      return {
        requests: sums('requests'),
        errors: sums('errors'),
        tokens: sums('tokens'),
        latency: Object.fromEntries(Object.entries(charts.latency!.raw).map(([k, v]) => [k, v.filter((x) => x !== null).length])),
        plotted: charts.requests!.series.map((s) => s.label),
        points: charts.requests!.data[0]!.length,
      };
    });
    expect(data.requests).toMatchObject({ 'claude-sonnet-4-5': 3, 'gemini-3-flash': 1 });
    expect(data.plotted).toContain('claude-sonnet-4-5');
    expect(data.points).toBe(60); // one point a minute over the hour
    expect(data.errors).toEqual({ 'not found': 1 });
    expect(data.tokens.input).toBeGreaterThan(0);
    expect(data.tokens.output).toBeGreaterThan(0);
    expect(data.latency['duration p50']).toBeGreaterThan(0);
    expect(data.latency['TTFB p50']).toBeGreaterThan(0);
    // The account's timeline: ok, sampled this minute.
    await page.waitForSelector('[data-timeline="default"] .timeline-seg[data-state="ok"]');
    // Who carried it: the account and the upstream.
    expect(await page.textContent('[data-breakdown="accounts"]')).toContain('default');
    expect(await page.textContent('[data-breakdown="upstreams"]')).toContain('gemini');
    // The 24 h range: 1440 points.
    await page.click('[data-range="1440"]');
    await expect.poll(() => page.evaluate(() => (window as unknown as { gatewayCharts: { requests: { data: unknown[][] } } }).gatewayCharts.requests.data[0]!.length)).toBe(1440);
    await page.click('[data-range="60"]');
    await expect.poll(() => page.evaluate(() => (window as unknown as { gatewayCharts: { requests: { data: unknown[][] } } }).gatewayCharts.requests.data[0]!.length)).toBe(60);
    await shot('console-overview');
  });

  it('streams the live log: a request shows within a second, secrets never; filter and pause', async () => {
    await page.click('nav [data-view="log"]');
    await expect.poll(() => page.textContent('#log-status')).toContain('Live at level info');
    // The client token in a path lands in the request's log line: scrubbed.
    const started = Date.now();
    expect((await fetch(`${t.gw.url}/v1/${CLIENT}`, { headers: { authorization: `Bearer ${CLIENT}` } })).status).toBe(404);
    await page.waitForSelector('.log-line:has-text("/v1/[REDACTED]")', { timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(1000);
    await fetch(`${t.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gemini-3-flash', messages: [{ role: 'user', content: 'hi' }] }) });
    await page.waitForSelector('.log-line:has-text("POST /v1/chat/completions | gemini-3-flash | 200")', { timeout: 1000 });
    // Filter: only matching lines stay visible.
    await page.fill('#log-filter', 'gemini-3-flash');
    const visible = () => page.locator('.log-line:visible').allTextContents();
    await expect.poll(async () => (await visible()).length).toBeGreaterThan(0);
    expect((await visible()).every((l) => l.includes('gemini-3-flash'))).toBe(true);
    await shot('console-log');
    // Pause holds new lines until resumed.
    await page.fill('#log-filter', '');
    await page.click('#log-pause');
    const before = await page.locator('.log-line').count();
    await fetch(`${t.gw.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT}` } });
    await expect.poll(() => page.textContent('#log-status')).toMatch(/Paused: [1-9]\d* new lines held/);
    expect(await page.locator('.log-line').count()).toBe(before);
    await page.click('#log-pause');
    await page.waitForSelector('.log-line:has-text("GET /v1/models")');
    const text = (await page.textContent('#log-lines')) ?? '';
    for (const secret of [CLIENT, ADMIN, PSID, PSIDTS]) expect(text).not.toContain(secret);
  });

  it('switches the log level with a TTL, clears the override, and reloads the config', async () => {
    await page.click('nav [data-view="settings"]');
    // Both dropdowns are labelled.
    expect(await page.textContent('label[for="level"]')).toBe('Level');
    expect(await page.textContent('label[for="level-ttl"]')).toBe('For how long');
    await page.getByLabel('Level', { exact: true }).selectOption('debug');
    await page.getByLabel('For how long').selectOption('600');
    await page.click('#level-set');
    await expect.poll(() => page.textContent('#level-now')).toBe('debug');
    expect(t.gw.logs.logger.level).toBe('debug');
    expect(await page.textContent('#level-detail')).toContain('override');
    await page.click('#level-clear');
    await expect.poll(() => page.textContent('#level-now')).toBe('info');
    expect(t.gw.logs.logger.level).toBe('info');
    expect(await page.isVisible('#level-clear')).toBe(false);
    await page.selectOption('#level', 'debug');
    await page.selectOption('#level-ttl', '600');
    await page.click('#level-set');
    await expect.poll(() => page.textContent('#level-now')).toBe('debug');
    await page.click('#reload');
    await expect.poll(() => page.textContent('#reload-result')).toContain('Reloaded');
    await shot('console-settings');

    // A broken file: the error and its key path are shown, the old config keeps serving.
    const good = await readFile(t.configPath, 'utf8');
    await t.writeConfig(`${good}bogus_key: 1\n`);
    await page.click('#reload');
    await expect.poll(() => page.textContent('#reload-result')).toContain('bogus_key');
    await t.writeConfig(good);
  });

  it('is readable on a phone: no horizontal overflow on any page, every request column visible', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.click('nav [data-view="accounts"]');
    await page.waitForSelector('[data-account="default"]');
    expect(await overflow()).toBeLessThanOrEqual(1);
    await shot('console-phone');
    await page.click('nav [data-view="requests"]');
    const row = page.locator('tr[data-request="/v1/chat/completions"]').first();
    await row.waitFor();
    expect(await overflow()).toBeLessThanOrEqual(1);
    for (const label of ['Status', 'TTFB', 'Duration', 'Tokens in/out']) {
      const cell = row.locator(`td[data-label="${label}"]`);
      expect(await cell.isVisible(), label).toBe(true);
      const box = (await cell.boundingBox())!;
      expect(box.x + box.width, label).toBeLessThanOrEqual(390);
      // the table scrolls nothing sideways: the cell is inside its own scroll box
      expect(await cell.evaluate((td) => td.closest('.scroll')!.scrollWidth - td.closest('.scroll')!.clientWidth)).toBeLessThanOrEqual(1);
    }
    await shot('console-phone-requests');
    for (const view of ['overview', 'log', 'routes', 'settings']) {
      await page.click(`nav [data-view="${view}"]`);
      await page.waitForTimeout(300);
      expect(await overflow(), view).toBeLessThanOrEqual(1);
    }
    await page.click('nav [data-view="overview"]');
    await page.waitForSelector('#chart-requests .uplot');
    await shot('console-phone-overview');
    await page.setViewportSize({ width: 1100, height: 800 });
  });

  it('says when Google blocks the IP, with the time it lifts, and shows it on the timeline', async () => {
    fake.reply = () => ({ http: 429 });
    const res = await fetch(`${t.gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gemini-3-flash', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(429);
    await page.click('nav [data-view="accounts"]');
    await expect.poll(() => page.textContent('#account-notices')).toContain("Google is blocking this gateway's IP");
    const notice = (await page.textContent('#account-notices')) ?? '';
    expect(notice).toMatch(/The block lifts at .*\(in \d+ h \d+ min\)|The block lifts at .*\(in \d+ min\)/);
    expect(await page.textContent('[data-account="default"] .state')).toBe('ip blocked');
    await shot('console-ip-blocked');
    await page.click('nav [data-view="overview"]');
    const seg = page.locator('[data-timeline="default"] .timeline-seg[data-state="ip_blocked"]');
    await seg.waitFor();
    expect(await seg.getAttribute('title')).toMatch(/ip blocked .*until/);
    expect(await page.textContent('#notices')).toContain("Google is blocking this gateway's IP");
    await seg.click();
    expect(await page.textContent('#timeline-detail')).toContain('ip blocked');
    fake.reply = () => ({ final: { text: 'OK' } });
  });

  it('ran without script errors or CSP violations (uPlot styles through the CSSOM only)', () => {
    // 4xx answers the tests provoke show as "Failed to load resource"; anything else is a bug.
    expect(consoleErrors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
  });
});

/// <reference lib="dom" />
// The admin console in a real browser: Debian's chromium driven by playwright-core. Login, paste
// invalid and valid cookies, watch a request appear, switch the log level, reload the config.
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
    await page.fill('#token', CLIENT); // a client token is not the admin token
    await page.click('#login-form button');
    await expect.poll(() => page.textContent('#login-error')).toContain('not the admin token');
    await shot('console-login');
    await page.fill('#token', ADMIN);
    await page.click('#login-form button');
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
    await shot('console-requests');
  });

  it('switches the log level with a TTL and reloads the config', async () => {
    await page.click('nav [data-view="settings"]');
    await page.selectOption('#level', 'debug');
    await page.selectOption('#level-ttl', '600');
    await page.click('#level-set');
    await expect.poll(() => page.textContent('#level-now')).toBe('debug');
    expect(t.gw.logs.logger.level).toBe('debug');
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

  it('is readable on a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('nav [data-view="accounts"]');
    await page.waitForSelector('[data-account="default"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await shot('console-phone');
  });
});

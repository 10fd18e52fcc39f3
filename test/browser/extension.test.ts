/// <reference lib="dom" />
// The cookie-sync extension (extension/) in Debian's chromium, driven by playwright-core: the
// unpacked extension is loaded, a fake gemini.google.com is served over TLS on loopback
// (--host-resolver-rules sends *.google.com there and every other name nowhere), its Set-Cookie
// headers sign the browser in, the options page configures the extension against an in-process
// gateway (whose Gemini is the fake Gemini web app), and a changed __Secure-1PSIDTS has to reach
// the gateway's cookie file. The packed zip (scripts/pack-extension.mjs) is checked without a browser.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mask } from '../../src/secrets.js';
import { FakeGemini, PSID, PSIDTS } from '../fakes/gemini-web.js';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';
import { requireSystemPackage } from '../helpers/system-deps.js';

const CHROMIUM = '/usr/bin/chromium';
// One loud line with the install command and skipped, or a failure under CI (test/helpers/system-deps.ts).
const AVAILABLE =
  requireSystemPackage(CHROMIUM, { pkg: 'chromium', tests: 'the cookie-sync extension browser test' }) &&
  requireSystemPackage('openssl', { pkg: 'openssl', tests: 'the cookie-sync extension browser test' });

const CLIENT = 'ext-client-token-0123';
const ADMIN = 'ext-admin-token-secret-4567';
const SAPISID = 'FakeSapisid/AbCdEfGhIjKlMnOp';
const NEW_PSIDTS = 'sidts-RotatedInTheBrowser0123456789abcdef';

let fake: FakeGemini;
let t: TestGateway;
let google: Server;
let work: string;
let context: BrowserContext;
let worker: Worker;
let extensionId: string;
let page: Page;
let options: Page;
/** Every request the fake Google saw: host, path, headers and body as one string. */
const seen: Array<{ host: string; url: string; text: string }> = [];

const cookieFile = () => path.join(t.dir, 'work.json');
const readCookies = async () => JSON.parse(await readFile(cookieFile(), 'utf8')) as Record<string, string>;

beforeAll(async () => {
  if (!AVAILABLE) return;
  work = await mkdtemp(path.join(tmpdir(), 'gw-ext-'));
  fake = await new FakeGemini().start();
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${CLIENT}\n  admin_token: ${ADMIN}\ng4f:\n  enabled: false\n` +
      `gemini:\n  auto_refresh: false\n  accounts:\n    - name: work\n      cookie_path: ${path.join(dir, 'work.json')}\n` +
      `  endpoints:\n    gemini: ${fake.url}\n    accounts: ${fake.url}\n    upload: ${fake.url}\n    google: ${fake.url}\n`,
  );

  // gemini.google.com over TLS on loopback: a throwaway self-signed certificate (chromium runs with
  // --ignore-certificate-errors; only *.google.com is mapped here, every other name fails to resolve).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=gemini.google.com', '-addext', 'subjectAltName=DNS:*.google.com,DNS:google.com', '-keyout', path.join(work, 'key.pem'), '-out', path.join(work, 'cert.pem')], { stdio: 'ignore' });
  let psidts = PSIDTS;
  google = createServer({ key: await readFile(path.join(work, 'key.pem')), cert: await readFile(path.join(work, 'cert.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const host = String(req.headers.host ?? '');
      seen.push({ host, url: req.url ?? '', text: `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${Buffer.concat(chunks).toString('utf8')}` });
      const url = new URL(req.url ?? '/', `https://${host}`);
      if (!host.startsWith('gemini.google.com')) return void res.writeHead(404).end();
      if (url.pathname === '/rotate') psidts = url.searchParams.get('ts') ?? psidts; // what Google's RotateCookies does to the browser
      const attrs = 'Domain=.google.com; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=86400';
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'set-cookie': [`__Secure-1PSID=${PSID}; ${attrs}`, `__Secure-1PSIDTS=${psidts}; ${attrs}`, `SAPISID=${SAPISID}; Domain=.google.com; Path=/; Secure`, 'NID=511=fakeNid; Domain=.google.com; Path=/; Secure; HttpOnly', 'HOSTONLY=gemini-host-only; Path=/; Secure'],
      });
      res.end('<!doctype html><title>Gemini</title><p>signed in</p>');
    });
  });
  await new Promise<void>((resolve) => google.listen(0, '127.0.0.1', resolve));
  const port = (google.address() as AddressInfo).port;

  // A copy of extension/ whose manifest already holds the gateway's host (http://127.0.0.1/*): Save
  // still calls permissions.request() for it, which then resolves without the permission dialog a
  // headless browser could not click. Users get the dialog once, for the origin they typed.
  const ext = path.join(work, 'extension');
  await cp(path.resolve('extension'), ext, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(ext, 'manifest.json'), 'utf8')) as { host_permissions: string[] };
  manifest.host_permissions.push('http://127.0.0.1/*');
  await writeFile(path.join(ext, 'manifest.json'), JSON.stringify(manifest, null, 2));

  context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--disable-extensions-except=${ext}`,
      `--load-extension=${ext}`,
      `--host-resolver-rules=MAP *.google.com 127.0.0.1:${port}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
      '--ignore-certificate-errors',
    ],
  });
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 15_000 }));
  extensionId = new URL(worker.url()).host;
  page = await context.newPage();
  options = await context.newPage();
}, 60_000);

afterAll(async () => {
  if (!AVAILABLE) return;
  await context?.close();
  await new Promise((resolve) => google?.close(resolve));
  await t?.stop();
  await fake?.stop();
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!AVAILABLE)('cookie-sync extension in chromium', () => {
  it('is set up on its options page: Test shows the gateway verdict, Save sends the cookies and the gateway verifies them', async () => {
    await page.goto('https://gemini.google.com/');
    expect(await page.textContent('p')).toBe('signed in');

    await options.goto(`chrome-extension://${extensionId}/options.html`);
    await options.waitForSelector('body[data-ready]');
    await options.fill('#gateway', t.gw.url);
    await options.fill('#token', 'not-the-admin-token');
    await options.fill('#account', 'work');
    await options.click('#test');
    await expect.poll(() => options.textContent('#test-result')).toContain('(401)');
    expect(await options.getAttribute('#test-result', 'class')).toBe('verdict error');

    await options.fill('#token', ADMIN);
    await options.click('#test');
    await expect.poll(() => options.textContent('#test-result')).toContain('Valid for account work: Google account status 1000');
    expect(existsSync(cookieFile())).toBe(false); // the check saved nothing

    await options.fill('#interval', '5');
    await options.click('#save');
    await expect.poll(() => options.textContent('#verdict')).toContain('Saved and verified by the gateway: account work (ok)');
    const saved = await readCookies();
    expect(saved['__Secure-1PSID']).toBe(PSID);
    expect(saved['__Secure-1PSIDTS']).toBe(PSIDTS);
    expect(saved.SAPISID).toBe(SAPISID); // every .google.com cookie goes along
    expect(saved.HOSTONLY).toBe('gemini-host-only'); // and gemini.google.com's own

    expect(await worker.evaluate(() => (globalThis as unknown as { chrome: { action: { getBadgeText(d: object): Promise<string> } } }).chrome.action.getBadgeText({}))).toBe('OK');
    const alarm = await worker.evaluate(() => (globalThis as unknown as { chrome: { alarms: { get(n: string): Promise<{ periodInMinutes?: number } | undefined> } } }).chrome.alarms.get('cookie-sync'));
    expect(alarm?.periodInMinutes).toBe(5);
  });

  it('sends a changed __Secure-1PSIDTS by itself within seconds, and the gateway verifies and keeps it', async () => {
    const account = fake.accounts.get(PSID)!;
    account.previous = account.psidts;
    account.psidts = NEW_PSIDTS; // the fake Gemini accepts the new value (and, not strict, the old)
    fake.strictPsidts = true; // now only the new one: the gateway's check must have used it
    const started = Date.now();
    await page.goto(`https://gemini.google.com/rotate?ts=${NEW_PSIDTS}`);
    await waitFor(async () => (await readCookies().catch(() => ({}) as Record<string, string>))['__Secure-1PSIDTS'] === NEW_PSIDTS, 8000, 100);
    const ms = Date.now() - started;
    expect(ms).toBeLessThan(8000);

    const status = (await (await fetch(`${t.gw.url}/admin/cookies/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { accounts: Array<{ name: string; state: string; psidts: string }> };
    const work = status.accounts.find((a) => a.name === 'work')!;
    expect(work.psidts).toBe(mask(NEW_PSIDTS));
    expect(work.state).toBe('ok');
    await expect.poll(() => options.textContent('#verdict')).toContain('· change');
    console.log(`extension: new __Secure-1PSIDTS in the gateway's cookie file ${ms} ms after the browser got it`);
  });

  it('posted once per change (debounced), and sends the admin token to the gateway only', async () => {
    // Save, then the rotation (whose response re-set __Secure-1PSID too): two saves, no more.
    expect(t.logs.text.split('gemini cookies replaced').length - 1).toBe(2);
    expect(seen.filter((r) => r.host.startsWith('gemini.google.com')).length).toBeGreaterThanOrEqual(2);
    for (const r of seen) {
      expect(r.text).not.toContain(ADMIN);
      expect(r.url).not.toContain('admin');
    }
    // Nothing the options page shows holds a cookie value or the token outside its own input.
    const shown = (await options.textContent('body')) ?? '';
    for (const secret of [PSID, NEW_PSIDTS, SAPISID, ADMIN]) expect(shown).not.toContain(secret);
  });

  it('re-sends unchanged cookies when the alarm fires (what the every-N-minutes alarm runs)', async () => {
    // The alarm cannot be fired early; its listener calls run('alarm'), so call that.
    const verdict = await worker.evaluate(() => (globalThis as unknown as { run(trigger: string): Promise<{ ok: boolean; trigger: string; message: string }> }).run('alarm'));
    expect(verdict).toMatchObject({ ok: true, trigger: 'alarm' });
    expect(t.logs.text.split('gemini cookies replaced').length - 1).toBe(3);
    await expect.poll(() => options.textContent('#verdict')).toContain('· alarm');
  });
});

describe('npm run pack:extension', () => {
  it('zips every file of extension/ (entries inflate to the same bytes, CRCs match)', async () => {
    execFileSync(process.execPath, ['scripts/pack-extension.mjs'], { stdio: 'ignore' });
    const zip = await readFile('dist-extension/gemini-gateway-cookies.zip');
    const end = zip.length - 22;
    expect(zip.readUInt32LE(end)).toBe(0x06054b50);
    const count = zip.readUInt16LE(end + 10);
    let at = zip.readUInt32LE(end + 16);
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      expect(zip.readUInt32LE(at)).toBe(0x02014b50);
      const method = zip.readUInt16LE(at + 10);
      const crc = zip.readUInt32LE(at + 16);
      const size = zip.readUInt32LE(at + 20);
      const nameLength = zip.readUInt16LE(at + 28);
      const local = zip.readUInt32LE(at + 42);
      const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const stored = zip.subarray(start, start + size);
      const data = method === 8 ? inflateRawSync(stored) : stored;
      expect(crc32(data)).toBe(crc);
      expect(data.equals(await readFile(path.join('extension', name)))).toBe(true);
      names.push(name);
      at += 46 + nameLength;
    }
    expect(names).toEqual((await readdir('extension')).filter((n) => !n.startsWith('.')).sort());
    expect(names).toContain('manifest.json');
  });
});

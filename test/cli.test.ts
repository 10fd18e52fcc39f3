import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { FakeUpstream } from './fakes/openai-upstream.js';

let dir: string;
let lines: string[];
const print = (l: string) => lines.push(l);
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gw-cli-'));
  lines = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('gemini-gateway CLI', () => {
  it('token prints a strong random token', async () => {
    expect(await runCli(['token'], print)).toBe(0);
    expect(lines[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('check-config validates and prints the resolved config with secrets masked', async () => {
    const file = path.join(dir, 'c.yaml');
    await writeFile(file, 'auth:\n  bearer_token: "${GW_TOKEN}"\nserver:\n  port: 9000\n');
    expect(await runCli(['check-config', file], print, { GW_TOKEN: 'super-secret-token-0123456789', SERVER_PORT: '9100' })).toBe(0);
    const out = lines.join('\n');
    expect(out).toContain('is valid');
    expect(out).toContain('port: 9100');
    expect(out).not.toContain('super-secret-token-0123456789');
    lines = [];
    await writeFile(file, 'logging:\n  level: loud\n');
    expect(await runCli(['check-config', file], print, {})).toBe(2);
    expect(lines.join('\n')).toContain('logging.level: unknown level "loud"');
  });

  it('cookies import converts a cookies.txt into the cookie file (0600)', async () => {
    const txt = path.join(dir, 'cookies.txt');
    await writeFile(txt, `# Netscape HTTP Cookie File\n.google.com\tTRUE\t/\tTRUE\t1827288825\t__Secure-1PSID\t${PSID}\n.google.com\tTRUE\t/\tTRUE\t1827288825\t__Secure-1PSIDTS\t${PSIDTS}\n`);
    const out = path.join(dir, 'gemini.json');
    expect(await runCli(['cookies', 'import', txt, '--out', out], print, {})).toBe(0);
    const saved = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    expect(saved['__Secure-1PSID']).toBe(PSID);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).not.toContain(PSID);
  });

  it('doctor walks every step against the upstreams and says what works', async () => {
    const gemini = await new FakeGemini().start();
    const g4f = await new FakeUpstream().start();
    g4f.handler = () => ({ status: 200, json: { object: 'list', data: [{ id: 'gpt-4o' }, { id: 'deepseek-v3' }] } });
    gemini.reply = () => ({ final: { text: 'OK' } });
    try {
      const cookieFile = path.join(dir, 'gemini.json');
      await writeFile(cookieFile, JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }));
      const config = path.join(dir, 'config.yaml');
      await writeFile(
        config,
        `gemini:\n  cookie_path: ${cookieFile}\n  models: [gemini-3-pro, gemini-3-flash]\n  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\ng4f:\n  base_url: ${g4f.url}/v1\n`,
      );
      expect(await runCli(['doctor'], print, { CONFIG_PATH: config })).toBe(0);
      const out = lines.join('\n');
      for (const step of ['preflight', 'token page', 'account status and models', 'prompt on gemini-3-pro', 'prompt on gemini-3-flash', 'cookie rotation', 'models (GET /models)']) {
        expect(out).toMatch(new RegExp(`✓ ${step.replace(/[()]/g, '\\$&')}`));
      }
      expect(out).toContain('status 1000');
      expect(out).toContain('2 models: gpt-4o, deepseek-v3');
      expect(out).toContain('All checks passed.');
      expect(out).not.toContain(PSID);

      lines = [];
      await writeFile(cookieFile, JSON.stringify({ '__Secure-1PSID': 'g.a000NotValidAtAll000000000000000000000' }));
      expect(await runCli(['doctor'], print, { CONFIG_PATH: config })).toBe(1);
      // Google answers expired cookies as a signed-out visitor: the page has no access token.
      expect(lines.join('\n')).toMatch(/✗ token page \(\/app\): .*signed-out visitor/);
    } finally {
      await gemini.stop();
      await g4f.stop();
    }
  });
});

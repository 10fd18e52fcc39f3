import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mask, SecretRegistry } from '../src/secrets.js';
import { startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const TOKEN = 'tok-SECRET-client-5f1c2a9e';
const SECOND = 'tok-SECRET-second-77aa01bc';
const ADMIN = 'tok-SECRET-admin-0c0ffee1';
const G4F_KEY = 'g4f-SECRET-key-9d8e7f6a';
const NEW_TOKEN = 'tok-SECRET-rotated-31337x';
const ALL = [TOKEN, SECOND, ADMIN, G4F_KEY, NEW_TOKEN];

let g: TestGateway | undefined;
afterEach(async () => {
  await g?.stop();
  g = undefined;
});

describe('secrets never reach the logs', () => {
  it('through every path, at trace level, on console and in the log file', async () => {
    const yaml = (token: string, file: string) =>
      `auth:\n  bearer_token: ${token}\n  tokens: [${SECOND}]\n  admin_token: ${ADMIN}\n` +
      `g4f:\n  api_key: ${G4F_KEY}\nlogging:\n  level: trace\n  file: ${file}\n`;
    g = await startTestGateway((dir) => yaml(TOKEN, path.join(dir, 'logs', 'gateway.log')));
    const logDir = path.join(g.dir, 'logs');
    const file = path.join(logDir, 'gateway.log');
    const url = g.gw.url;
    const call = (p: string, init: RequestInit = {}) => fetch(`${url}${p}`, init).then((r) => r.text());

    const responses = [
      await call('/v1/models', { headers: { authorization: `Bearer ${TOKEN}` } }),
      await call('/v1/models', { headers: { 'x-api-key': SECOND } }),
      await call(`/v1/models?key=${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}x` } }), // wrong token + token in query
      await call('/v1/messages', { method: 'POST', headers: { 'x-api-key': `${ADMIN}`, 'content-type': 'application/json' }, body: `{"k":"${TOKEN}"` }),
      await call(`/v1/${TOKEN}`, { headers: { authorization: `Bearer ${TOKEN}` } }), // secret in an unknown path
      await call('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: `{"api_key": "${G4F_KEY}", "bad": ` }),
      await call('/admin/config', { headers: { authorization: `Bearer ${ADMIN}` } }),
      await call('/admin/logging', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ level: TOKEN }) }),
    ];
    // Structured fields that name secrets are redacted, stray values scrubbed.
    g.gw.logs.logger.info({ headers: { authorization: `Bearer ${TOKEN}`, cookie: `SID=${SECOND}` }, api_key: G4F_KEY }, 'structured');
    g.gw.logs.logger.error(new Error(`upstream said: bad key ${G4F_KEY}`), `stray ${ADMIN}`);

    // An invalid reload, then a valid one that rotates the token: the new value is protected too.
    await g.writeConfig(`${yaml(NEW_TOKEN, file)}gemini:\n  refresh_interval: 1\n`);
    await waitFor(() => g!.gw.store.last.ok === false, 1000);
    await g.writeConfig(yaml(NEW_TOKEN, file));
    await waitFor(() => g!.gw.store.current().version === 2, 1000);
    await call('/v1/models', { headers: { authorization: `Bearer ${NEW_TOKEN}` } });
    g.gw.logs.logger.warn(`someone pasted ${NEW_TOKEN}`);

    await g.gw.close(1000);
    const console = g.logs.text;
    const logFiles = await readdir(logDir);
    const fileText = (await Promise.all(logFiles.map((f) => readFile(path.join(logDir, f), 'utf8')))).join('');
    expect(fileText).toContain('/admin/config');
    expect(console).toContain('/admin/config'); // the paths above were logged...
    expect(console).toContain('[REDACTED]');
    for (const secret of ALL) {
      expect(console, `console leaks ${secret}`).not.toContain(secret);
      expect(fileText, `file leaks ${secret}`).not.toContain(secret);
      // The masked config view shows none of them (other answers only ever echo what the client sent).
      expect(responses[6], `/admin/config leaks ${secret}`).not.toContain(secret);
    }
  });
});

describe('masking', () => {
  it('shows only the ends of long values and nothing of short ones', () => {
    expect(mask('g.a000abcdefghijklmnopqrstuvwxyz0123')).toBe('g.a0…0123 (36 chars)');
    expect(mask('short-token')).toBe('*** (11 chars)');
    expect(mask(undefined)).toBeNull();
  });

  it('scrubs the longest secret first and forgets replaced ones', () => {
    const registry = new SecretRegistry();
    registry.set('a', ['abcdef', 'abcdefghij']);
    expect(registry.scrub('x abcdefghij y abcdef')).toBe('x [REDACTED] y [REDACTED]');
    registry.set('a', ['zzzzzz']);
    expect(registry.scrub('abcdef zzzzzz')).toBe('abcdef [REDACTED]');
  });
});

import { describe, expect, it } from 'vitest';
import { formatIssues, parseConfigText } from '../src/config/load.js';
import { parseSize } from '../src/config/schema.js';

function issuesOf(yaml: string, env: Record<string, string> = {}) {
  const result = parseConfigText(yaml, env);
  if (result.ok) throw new Error('expected the config to be rejected');
  return formatIssues(result.issues);
}

describe('config loading', () => {
  it('starts from defaults when there is no file', () => {
    const result = parseConfigText(undefined, {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.source).toBe('defaults');
    expect(result.config.server).toMatchObject({ host: '0.0.0.0', port: 8022 });
    expect(result.config.auth.bearer_token).toBeUndefined();
    expect(result.config.logging.level).toBe('info');
    expect(result.config.g4f.fallback).toEqual({ enabled: true, max_retries: 2, timeout: 30 });
  });

  it("accepts the spec's example config as written", () => {
    const result = parseConfigText(
      `server:\n  host: "0.0.0.0"\n  port: 8022\nauth:\n  bearer_token: "your-secure-token-here"\n` +
        `logging:\n  level: "INFO"\n  format: "{time:YYYY-MM-DD HH:mm:ss} | {level} | {message}"\n  file: "/app/logs/gateway.log"\n  rotation: "10 MB"\n` +
        `gemini:\n  enabled: true\n  cookie_path: "/app/cookies/gemini.json"\n  auto_refresh: true\n  models:\n    - "gemini-2.5-pro"\n` +
        `g4f:\n  enabled: true\n  models:\n    - "gpt-4o"\n    - "deepseek-*"\n  fallback:\n    enabled: true\n    max_retries: 2\n    timeout: 30\n`,
      {},
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.logging).toMatchObject({ level: 'info', format: 'text', rotation: { sizeBytes: 10 * 1024 * 1024 } });
    expect(result.config.g4f.models).toEqual(['gpt-4o', 'deepseek-*']);
  });

  it('names the key path and the problem', () => {
    expect(issuesOf('server:\n  port: "not-a-port"\n')).toMatch(/^server\.port: /);
    expect(issuesOf('logging:\n  level: loud\n')).toBe('logging.level: unknown level "loud" (use one of trace, debug, info, warn, error, fatal, silent)');
    expect(issuesOf('auth:\n  bearer_tokn: x\n')).toMatch(/^auth\.bearer_tokn: /);
    expect(issuesOf('auth:\n  tokens:\n    - name: ci\n')).toBe('auth.tokens[0].token: required');
    expect(issuesOf('gemini:\n  refresh_interval: 5\n')).toBe('gemini.refresh_interval: must be at least 60 seconds');
    expect(issuesOf('server: [1, 2\n')).toMatch(/^YAML syntax error/);
    expect(issuesOf('- just\n- a list\n')).toBe('the config file must be a YAML mapping');
  });

  it('lets environment variables win over the file', () => {
    const yaml = 'server:\n  host: 10.0.0.1\n  port: 9000\nauth:\n  bearer_token: from-file\nlogging:\n  level: info\ngemini:\n  cookie_path: /file/cookies.json\n';
    const result = parseConfigText(yaml, {
      SERVER_HOST: '127.0.0.2',
      SERVER_PORT: '9100',
      BEARER_TOKEN: 'from-env',
      LOG_LEVEL: 'DEBUG',
      COOKIE_PATH: '/env/cookies.json',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.server).toMatchObject({ host: '127.0.0.2', port: 9100 });
    expect(result.config.auth.bearer_token).toBe('from-env');
    expect(result.config.logging.level).toBe('debug');
    expect(result.config.gemini.cookie_path).toBe('/env/cookies.json');
  });

  it('G4F_BASE_URL sets g4f.base_url, also for a config that has none (the design\'s, in the compose set-up)', () => {
    const bare = parseConfigText('g4f:\n  enabled: true\n  models: [gpt-4o]\n', { G4F_BASE_URL: 'http://g4f:1337/v1' });
    expect(bare.ok && bare.config.g4f.base_url).toBe('http://g4f:1337/v1');
    const set = parseConfigText('g4f:\n  base_url: http://10.0.0.5:1337/v1\n', { G4F_BASE_URL: 'http://g4f:1337/v1' });
    expect(set.ok && set.config.g4f.base_url).toBe('http://g4f:1337/v1');
    expect(set.ok && set.shadowed.map((s) => `${s.env}->${s.key}`)).toEqual(['G4F_BASE_URL->g4f.base_url']);
  });

  it('rejects a bad environment override with the key it sets', () => {
    expect(issuesOf('', { SERVER_PORT: 'eighty' })).toMatch(/^server\.port: /);
  });

  it('interpolates ${VAR} and ${VAR:-default} in values, and reports unset variables by key', () => {
    const result = parseConfigText('auth:\n  bearer_token: "${GW_TOKEN}"\ng4f:\n  base_url: "http://${G4F_HOST:-127.0.0.1}:1337/v1"\n', {
      GW_TOKEN: 'tok-from-env-123',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.auth.bearer_token).toBe('tok-from-env-123');
    expect(result.config.g4f.base_url).toBe('http://127.0.0.1:1337/v1');
    expect(issuesOf('auth:\n  admin_token: "${MISSING_ADMIN}"\n')).toBe('auth.admin_token: environment variable MISSING_ADMIN is not set');
  });

  it('does not re-parse interpolated values as YAML', () => {
    const result = parseConfigText('auth:\n  bearer_token: "${T}"\n', { T: 'a: b\nserver: {port: 1}' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.auth.bearer_token).toBe('a: b\nserver: {port: 1}');
    expect(result.config.server.port).toBe(8022);
  });

  it('parses sizes', () => {
    expect(parseSize('10 MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(parseSize(2048)).toBe(2048);
    expect(parseSize('ten')).toBeUndefined();
  });
});

// Shared by the agent e2e tests: where the CLIs are, a clean-environment runner, Codex's home
// (config.toml + a model catalog entry copied from its own gpt-5.5, so it sends classic tools),
// opencode's and Qwen Code's homes, and a proxy trap that records any attempt to leave loopback.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const BIN = path.resolve('.cache/e2e-clients/node_modules/.bin');
export const CLAUDE = path.join(BIN, 'claude');
export const CODEX = path.join(BIN, 'codex');
export const AVAILABLE = existsSync(CLAUDE) && existsSync(CODEX);
if (!AVAILABLE && process.env.CI) throw new Error('e2e clients missing: run `node scripts/e2e-clients.mjs`');
export const OPENCODE = path.join(BIN, 'opencode');
export const QWEN = path.join(BIN, 'qwen');

/** Whether these CLIs are installed; under CI=true a missing one is an error, locally a loud skip. */
export function installed(...bins: string[]): boolean {
  const missing = bins.filter((bin) => !existsSync(bin)).map((bin) => path.basename(bin));
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`e2e clients missing (${missing.join(', ')}): run \`node scripts/e2e-clients.mjs\``);
  // eslint-disable-next-line no-console
  console.warn(`\n*** e2e: ${missing.join(', ')} not installed, SKIPPING their tests (run \`node scripts/e2e-clients.mjs\`) ***\n`);
  return false;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a CLI in a clean environment (like `env -i`): nothing of this machine's config leaks in. */
export function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs = 150_000): Promise<Run> {
  return new Promise((resolve) => {
    // Its own process group, so a timeout also ends what it started (Qwen Code relaunches itself).
    const child = spawn(command, args, { cwd, env: { PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, TERM: 'dumb', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A CODEX_HOME whose provider is the gateway and whose catalog knows `model`. */
export async function codexHome(home: string, model: string, gatewayUrl: string, catalog: Record<string, unknown> = {}): Promise<string> {
  await mkdir(home, { recursive: true });
  const models = await run(CODEX, ['debug', 'models'], home, { HOME: home, CODEX_HOME: home }, 60_000);
  const base = (JSON.parse(models.stdout) as { models: Array<Record<string, unknown>> }).models.find((m) => m.slug === 'gpt-5.5');
  if (!base) throw new Error('gpt-5.5 is not in the Codex catalog');
  await writeFile(path.join(home, 'gw-catalog.json'), JSON.stringify({ models: [{ ...base, slug: model, display_name: model, supports_search_tool: false, ...catalog }] }));
  await writeFile(
    path.join(home, 'config.toml'),
    [
      `model = "${model}"`,
      'model_provider = "gw"',
      'model_catalog_json = "gw-catalog.json"',
      'web_search = "disabled"',
      '[model_providers.gw]',
      'name = "Gateway"',
      `base_url = "${gatewayUrl}/v1"`,
      'env_key = "GW_API_KEY"',
      'wire_api = "responses"',
      'request_max_retries = 1',
      'stream_max_retries = 1',
      'stream_idle_timeout_ms = 30000',
      '[analytics]',
      'enabled = false',
      '[features]',
      'plugins = false',
      'remote_plugin = false',
      'apps = false',
      'goals = false',
      '[agents]',
      'enabled = false',
    ].join('\n'),
  );
  return home;
}

export function codexExec(home: string, work: string, prompt: string, token: string): Promise<Run> {
  return run(CODEX, ['exec', '--skip-git-repo-check', '--ephemeral', '--json', '-s', 'workspace-write', prompt], work, { HOME: home, CODEX_HOME: home, GW_API_KEY: token });
}

/** The last agent message of a `codex exec --json` run. */
export function finalAgentMessage(jsonl: string): string | undefined {
  let message: string | undefined;
  for (const line of jsonl.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; item?: { type: string; text?: string } };
    if (event.type === 'item.completed' && event.item?.type === 'agent_message') message = event.item.text;
  }
  return message;
}

/**
 * An HTTP(S)_PROXY that forwards nothing: it records the host of every request or CONNECT and drops
 * it, so a CLI behaves as offline and the test can see what it tried to reach outside loopback.
 */
export async function proxyTrap(): Promise<{ url: string; hosts: string[]; stop(): Promise<void> }> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host ?? String(req.url));
    res.writeHead(502).end();
  });
  server.on('connect', (req, socket) => {
    hosts.push(String(req.url));
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hosts,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The environment of a run that must stay on loopback: everything else goes to the trap. */
export const offline = (trapUrl: string) => ({ HTTPS_PROXY: trapUrl, HTTP_PROXY: trapUrl, https_proxy: trapUrl, http_proxy: trapUrl, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' });

export type Protocol = 'chat' | 'responses' | 'messages';

/** opencode's AI SDK provider package per gateway protocol (all three are bundled in opencode). */
const OPENCODE_NPM: Record<Protocol, string> = { chat: '@ai-sdk/openai-compatible', responses: '@ai-sdk/openai', messages: '@ai-sdk/anthropic' };

/**
 * A HOME whose ~/.config/opencode/opencode.json has one provider `gw` (the gateway, on `protocol`)
 * with `model` as both the main and the small (title) model; XDG dirs inside it.
 */
export async function opencodeHome(home: string, protocol: Protocol, model: string, gatewayUrl: string, token: string): Promise<Record<string, string>> {
  await mkdir(path.join(home, '.config/opencode'), { recursive: true });
  const config = {
    $schema: 'https://opencode.ai/config.json',
    provider: { gw: { npm: OPENCODE_NPM[protocol], name: 'Gemini Gateway', options: { baseURL: `${gatewayUrl}/v1`, apiKey: token }, models: { [model]: { name: model } } } },
    model: `gw/${model}`,
    small_model: `gw/${model}`,
    autoupdate: false,
    share: 'disabled',
  };
  await writeFile(path.join(home, '.config/opencode/opencode.json'), JSON.stringify(config, null, 2));
  return {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
  };
}

/** The text of the last `text` event of an `opencode run --format json` run. */
export function opencodeAnswer(jsonl: string): string | undefined {
  let answer: string | undefined;
  for (const line of jsonl.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; part?: { text?: string } };
    if (event.type === 'text') answer = event.part?.text;
  }
  return answer;
}

/** Qwen Code's auth type per gateway protocol. */
export const QWEN_AUTH: Record<Protocol, string> = { chat: 'openai', responses: 'openai-responses', messages: 'anthropic' };

/**
 * A HOME with ~/.qwen/settings.json turning off usage statistics (sent to Alibaba's RUM endpoint
 * otherwise), telemetry and update checks, and the env for `protocol` pointed at the gateway.
 */
export async function qwenHome(home: string, protocol: Protocol, model: string, gatewayUrl: string, token: string): Promise<Record<string, string>> {
  await mkdir(path.join(home, '.qwen'), { recursive: true });
  const settings = { privacy: { usageStatisticsEnabled: false }, telemetry: { enabled: false }, general: { enableAutoUpdate: false } };
  await writeFile(path.join(home, '.qwen/settings.json'), JSON.stringify(settings, null, 2));
  const env: Record<string, string> = { HOME: home, QWEN_CODE_SUPPRESS_YOLO_WARNING: '1' };
  if (protocol === 'messages') Object.assign(env, { ANTHROPIC_BASE_URL: gatewayUrl, ANTHROPIC_API_KEY: token, ANTHROPIC_MODEL: model });
  else Object.assign(env, { OPENAI_BASE_URL: `${gatewayUrl}/v1`, OPENAI_API_KEY: token, OPENAI_MODEL: model });
  return env;
}

/** The final result of a `qwen --output-format json` run. */
export function qwenResult(stdout: string): { result?: string; is_error?: boolean; num_turns?: number } | undefined {
  const start = stdout.indexOf('[');
  if (start < 0) return undefined;
  const events = JSON.parse(stdout.slice(start)) as Array<{ type: string; result?: string; is_error?: boolean; num_turns?: number }>;
  return events.find((e) => e.type === 'result');
}

// Shared by the agent e2e tests: where the CLIs are, a clean-environment runner, and Codex's home
// (config.toml + a model catalog entry copied from its own gpt-5.5, so it sends classic tools).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const BIN = path.resolve('.cache/e2e-clients/node_modules/.bin');
export const CLAUDE = path.join(BIN, 'claude');
export const CODEX = path.join(BIN, 'codex');
export const AVAILABLE = existsSync(CLAUDE) && existsSync(CODEX);
if (!AVAILABLE && process.env.CI) throw new Error('e2e clients missing: run `node scripts/e2e-clients.mjs`');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a CLI in a clean environment (like `env -i`): nothing of this machine's config leaks in. */
export function run(command: string, args: string[], cwd: string, env: Record<string, string>, timeoutMs = 150_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, TERM: 'dumb', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
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

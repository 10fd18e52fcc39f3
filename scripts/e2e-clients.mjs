// Installs the real coding agents the e2e tests drive (pinned versions) into .cache/e2e-clients,
// outside the project's dependency tree so `npm ci` stays light. Skips when already installed.
// Offline without CI: warns and exits 0 (the e2e tests then skip); with CI=true a failure fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const CLIENTS = {
  '@anthropic-ai/claude-code': '2.1.197',
  '@openai/codex': '0.171.0',
  'opencode-ai': '1.18.33',
  '@qwen-code/qwen-code': '0.24.4',
};
const dir = path.resolve('.cache/e2e-clients');

function installed(name, version) {
  const manifest = path.join(dir, 'node_modules', name, 'package.json');
  return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version;
}

const missing = Object.entries(CLIENTS).filter(([name, version]) => !installed(name, version));
if (missing.length === 0) process.exit(0);
mkdirSync(dir, { recursive: true });
// All of them in one install: `npm install --no-save` prunes packages it was not given.
const specs = Object.entries(CLIENTS).map(([name, version]) => `${name}@${version}`);
process.stdout.write(`e2e: installing ${missing.map(([name, version]) => `${name}@${version}`).join(', ')} into ${dir}\n`);
try {
  // Claude Code's postinstall links its native binary into bin/ (npm 11 runs it and warns).
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', dir, ...specs], { stdio: 'inherit' });
} catch (error) {
  if (process.env.CI) throw error;
  process.stdout.write('e2e: could not install the agents (offline?); the e2e tests will be skipped\n');
}

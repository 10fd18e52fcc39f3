#!/usr/bin/env node
// The operator CLI (`npx gemini-gateway <command>`): serve (default), check-config, cookies import,
// token, doctor. Output is for people: one line per step, secrets masked.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isEntryPoint } from './entry-point.js';
import { formatIssues, loadConfigFile, resolveConfigPath } from './config/load.js';
import { maskedConfig } from './config/mask.js';
import type { GatewayConfig } from './config/schema.js';
import { GatewayError } from './core/gateway-error.js';
import { configWarnings, loadUpstreams, upstreams } from './providers/catalog.js';
import { parseCookieInput, saveCookieFile, PSID, PSIDTS } from './providers/gemini-web/cookie-file.js';
import { mask, SecretRegistry } from './secrets.js';
import { SharedState } from './state/shared-state.js';

const USAGE = `Usage: gemini-gateway [command]

  serve                       run the gateway (default)
  check-config [path]         validate a config file and print it resolved, secrets masked
  cookies import <file> [--out path] [--account name]
                              convert a browser cookie export (JSON, Cookie-Editor, cookies.txt,
                              Cookie header) into the gateway's cookie file
  token                       print a strong random token for auth.bearer_token
  doctor                      try every step against the configured upstreams and report
`;

type Print = (line: string) => void;

export async function runCli(argv: string[], print: Print = (l) => process.stdout.write(`${l}\n`), env = process.env): Promise<number> {
  const [command = 'serve', ...args] = argv;
  switch (command) {
    case 'serve': {
      const { serve } = await import('./process.js');
      await serve();
      return -1; // keeps running
    }
    case 'check-config':
      return checkConfig(args[0], print, env);
    case 'cookies':
      if (args[0] !== 'import' || !args[1]) break;
      return importCookies(args.slice(1), print, env);
    case 'token':
      print(randomBytes(32).toString('base64url'));
      return 0;
    case 'doctor':
      return doctor(print, env);
    case 'help':
    case '--help':
    case '-h':
      print(USAGE);
      return 0;
  }
  print(USAGE);
  return 64;
}

async function loadOrReport(file: string, print: Print, env: NodeJS.ProcessEnv): Promise<GatewayConfig | undefined> {
  const loaded = await loadConfigFile(file, env);
  if (!loaded.ok) {
    print(`✗ ${file} is invalid:`);
    for (const line of formatIssues(loaded.issues).split('\n')) print(`  ${line}`);
    return undefined;
  }
  if (loaded.source === 'defaults') print(`(no file at ${file}: built-in defaults)`);
  return loaded.config;
}

async function checkConfig(file: string | undefined, print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const target = file ? path.resolve(file) : resolveConfigPath(env);
  const config = await loadOrReport(target, print, env);
  if (!config) return 2;
  for (const warning of configWarnings(config)) print(`! ${warning}`);
  print(`✓ ${target} is valid. Resolved (environment overrides applied, secrets masked):`);
  print(toYaml(maskedConfig(config)).trimEnd());
  return 0;
}

async function importCookies(args: string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const [file, ...rest] = args;
  const option = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  let out = option('--out');
  if (!out) {
    const loaded = await loadConfigFile(resolveConfigPath(env), env);
    const config = loaded.ok ? loaded.config : undefined;
    const account = option('--account');
    out = account ? config?.gemini.accounts.find((a) => a.name === account)?.cookie_path : config?.gemini.cookie_path;
    if (!out) {
      print(`✗ no cookie path for ${account ? `account "${account}"` : 'gemini'}: pass --out <path>`);
      return 2;
    }
  }
  try {
    const set = parseCookieInput(await readFile(file!, 'utf8'));
    set.updatedAt = new Date().toISOString();
    await saveCookieFile(path.resolve(out), set);
    print(`✓ wrote ${path.resolve(out)} (mode 0600): ${PSID}=${mask(set.cookies[PSID])}, ${PSIDTS}=${mask(set.cookies[PSIDTS]) ?? 'none'}`);
    return 0;
  } catch (error) {
    print(`✗ ${(error as Error).message}`);
    return 1;
  }
}

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

async function step(print: Print, name: string, run: () => Promise<string | void>): Promise<boolean> {
  const started = Date.now();
  try {
    const detail = await run();
    print(`✓ ${name}${detail ? `: ${detail}` : ''} (${Date.now() - started} ms)`);
    return true;
  } catch (error) {
    print(`✗ ${name}: ${error instanceof GatewayError || error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/** Each step against the real upstreams, with the user's cookies: what works, what does not. */
async function doctor(print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const file = resolveConfigPath(env);
  const loaded = await loadOrReport(file, print, env);
  if (!loaded) return 2;
  // No rotation timers and no conversation reuse in a one-shot check.
  const config: GatewayConfig = { ...loaded, gemini: { ...loaded.gemini, auto_refresh: false, conversations: { ...loaded.gemini.conversations, reuse: false } } };
  const deps = { secrets: new SecretRegistry(), log: SILENT, state: SharedState.memory() };
  let ok = true;
  await loadUpstreams(config);
  for (const upstream of upstreams(config)) {
    const provider = upstream.create(deps);
    try {
      await upstream.update?.(provider);
      if (!provider.doctor) continue;
      ok = (await provider.doctor.diagnose((name, run) => step(print, name, run), print)) && ok;
    } finally {
      await provider.close?.();
    }
  }
  print(ok ? 'All checks passed.' : 'Some checks failed (see ✗ above).');
  return ok ? 0 : 1;
}

// Run when executed directly: `node dist/cli.js` or through npm's bin link (`gemini-gateway`, a
// symlink or shim with another name), so compare real paths rather than the file name.
if (isEntryPoint(process.argv[1], import.meta.url)) {
  void runCli(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}

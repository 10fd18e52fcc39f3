// Reads the YAML file, interpolates ${VAR}, applies environment overrides, validates with zod.
// Returns issues instead of throwing so callers can keep the old config on failure.

import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.js';

export interface ConfigIssue {
  /** Dotted key path, e.g. `auth.bearer_token`; empty for file-level problems. */
  path: string;
  message: string;
}

export type LoadResult =
  | { ok: true; config: GatewayConfig; source: 'file' | 'defaults'; fingerprint: string; shadowed: ShadowedKey[] }
  | { ok: false; issues: ConfigIssue[]; fingerprint: string };

type Env = Record<string, string | undefined>;

/**
 * A config key an environment variable overrides, with a digest of the file's own value (never the
 * value: it may be a token), so a reload can tell that an edit of that key had no effect.
 */
export interface ShadowedKey {
  key: string;
  env: string;
  fileDigest: string;
}

export function resolveConfigPath(env: Env = process.env): string {
  return path.resolve(env.CONFIG_PATH?.trim() || 'config/config.yaml');
}

/** Environment variables that win over the file (spec appendix 13.1). */
const ENV_OVERRIDES: Array<{ env: string; key: string[]; number?: boolean }> = [
  { env: 'SERVER_HOST', key: ['server', 'host'] },
  { env: 'SERVER_PORT', key: ['server', 'port'], number: true },
  { env: 'BEARER_TOKEN', key: ['auth', 'bearer_token'] },
  { env: 'LOG_LEVEL', key: ['logging', 'level'] },
  { env: 'COOKIE_PATH', key: ['gemini', 'cookie_path'] },
  // The compose set-up's gpt4free sidecar (http://g4f:1337/v1), also for configs without g4f.base_url.
  { env: 'G4F_BASE_URL', key: ['g4f', 'base_url'] },
];

export function formatIssues(issues: ConfigIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n');
}

/** Load and validate from a path. A missing or empty file means "all defaults". */
export async function loadConfigFile(file: string, env: Env = process.env): Promise<LoadResult> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { ok: false, issues: [{ path: '', message: `cannot read ${file}: ${(error as Error).message}` }], fingerprint: '' };
    }
  }
  return parseConfigText(text, env);
}

/** Validate YAML text (undefined = no file). The fingerprint identifies the input, env included. */
export function parseConfigText(text: string | undefined, env: Env = process.env): LoadResult {
  const envPart = ENV_OVERRIDES.map((o) => env[o.env] ?? '').join('\0');
  const fingerprint = createHash('sha256').update(text ?? '\u0000none').update('\0').update(envPart).digest('hex');

  let raw: unknown = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      raw = parseYaml(text, { prettyErrors: true }) ?? {};
    } catch (error) {
      const message = error instanceof YAMLParseError ? error.message.split('\n')[0]! : String(error);
      return { ok: false, issues: [{ path: '', message: `YAML syntax error: ${message}` }], fingerprint };
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: '', message: 'the config file must be a YAML mapping' }], fingerprint };
  }

  const issues: ConfigIssue[] = [];
  const interpolated = interpolate(raw, [], env, issues) as Record<string, unknown>;
  const shadowed = applyEnvOverrides(interpolated, env);
  if (issues.length > 0) return { ok: false, issues, fingerprint };

  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    return { ok: false, issues: describeIssues(parsed.error.issues, []), fingerprint };
  }
  return { ok: true, config: parsed.data, source: text === undefined ? 'defaults' : 'file', fingerprint, shadowed };
}

type ZodIssue = z.core.$ZodIssue;

/** zod issues -> key path + message; a union reports the branch that matches the input's type. */
function describeIssues(issues: readonly ZodIssue[], prefix: readonly PropertyKey[]): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    const at = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const typeMismatch = (branch: readonly ZodIssue[]) => branch.some((i) => i.code === 'invalid_type' && i.path.length === 0);
      const branch = issue.errors.find((b) => !typeMismatch(b));
      if (branch) return describeIssues(branch, at);
    }
    let path = at.map((s) => (typeof s === 'number' ? `[${s}]` : String(s))).join('.').replace(/\.\[/g, '[');
    // For unknown keys zod reports the parent object; name the key itself.
    if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) path = path ? `${path}.${issue.keys[0]}` : issue.keys[0]!;
    const message = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
    return [{ path, message }];
  });
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace ${VAR} and ${VAR:-default} in string values (never in keys, never re-parsed as YAML). */
function interpolate(value: unknown, at: string[], env: Env, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(VAR, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      issues.push({ path: at.join('.'), message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, [...at, `[${i}]`], env, issues));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, [...at, key], env, issues);
    return out;
  }
  return value;
}

function applyEnvOverrides(raw: Record<string, unknown>, env: Env): ShadowedKey[] {
  const shadowed: ShadowedKey[] = [];
  for (const override of ENV_OVERRIDES) {
    const value = env[override.env];
    if (value === undefined || value === '') continue;
    const [section, key] = override.key as [string, string];
    const current = raw[section];
    const target = current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
    const fileDigest = createHash('sha256').update(JSON.stringify(target[key] ?? null)).digest('hex');
    shadowed.push({ key: override.key.join('.'), env: override.env, fileDigest });
    target[key] = override.number ? Number(value) : value;
    raw[section] = target;
  }
  return shadowed;
}

// Holds the current config snapshot and swaps it atomically on reload. A request takes the
// snapshot once when it starts and keeps it, so a reload never changes a request mid-flight.
// A reload that fails validation leaves the running snapshot untouched.

import { isDeepStrictEqual } from 'node:util';
import { loadConfigFile, type ConfigIssue, type LoadResult, type ShadowedKey } from './load.js';
import { RESTART_ONLY_KEYS, type GatewayConfig } from './schema.js';

export type ReloadTrigger = 'startup' | 'file' | 'signal' | 'admin';

export interface ConfigSnapshot {
  readonly config: GatewayConfig;
  readonly version: number;
  readonly loadedAt: Date;
  readonly source: 'file' | 'defaults';
  /** Keys environment variables override (they win over the file). */
  readonly shadowed: readonly ShadowedKey[];
}

export type ReloadResult =
  | { ok: true; version: number; changed: string[]; restartRequired: string[]; shadowedEdits?: ShadowedKey[] }
  | { ok: false; issues: ConfigIssue[] };

export interface ReloadRecord {
  at: Date;
  trigger: ReloadTrigger;
  ok: boolean;
  changed?: string[];
  issues?: ConfigIssue[];
}

/** Extra rules that depend on the running process (e.g. the bound interface). */
export type ConfigGuard = (next: GatewayConfig) => ConfigIssue[];

type Listener = (next: ConfigSnapshot, previous: ConfigSnapshot, changed: string[]) => void | Promise<void>;

export class ConfigStore {
  private snapshot: ConfigSnapshot;
  private fingerprint: string;
  private readonly listeners = new Set<Listener>();
  private queue: Promise<unknown> = Promise.resolve();
  private guard: ConfigGuard = () => [];
  last: ReloadRecord;

  constructor(
    readonly file: string,
    initial: Extract<LoadResult, { ok: true }>,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    this.snapshot = { config: initial.config, version: 1, loadedAt: new Date(), source: initial.source, shadowed: initial.shadowed };
    this.fingerprint = initial.fingerprint;
    this.last = { at: this.snapshot.loadedAt, trigger: 'startup', ok: true };
  }

  current(): ConfigSnapshot {
    return this.snapshot;
  }

  setGuard(guard: ConfigGuard): void {
    this.guard = guard;
  }

  /** Called after each successful swap, in registration order; errors are the listener's own. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-read the file. Reloads run one at a time; a file event with unchanged input is a no-op. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadResult> {
    const loaded = await loadConfigFile(this.file, this.env);
    if (trigger === 'file' && loaded.fingerprint === this.fingerprint) {
      return { ok: true, version: this.snapshot.version, changed: [], restartRequired: [] };
    }
    const issues = loaded.ok ? this.guard(loaded.config) : loaded.issues;
    if (!loaded.ok || issues.length > 0) {
      // Remember the bad input so repeated file events for it are not re-reported.
      if (trigger === 'file') this.fingerprint = loaded.fingerprint;
      this.last = { at: new Date(), trigger, ok: false, issues };
      return { ok: false, issues };
    }

    const previous = this.snapshot;
    const next = structuredClone(loaded.config);
    const changed = changedKeys(previous.config, next);
    const restartRequired = changed.filter((key) => (RESTART_ONLY_KEYS as readonly string[]).includes(key));
    // The listening socket cannot change under us: keep the values it was opened with.
    next.server.host = previous.config.server.host;
    next.server.port = previous.config.server.port;
    next.server.body_limit = previous.config.server.body_limit;

    this.fingerprint = loaded.fingerprint;
    this.snapshot = { config: next, version: previous.version + 1, loadedAt: new Date(), source: loaded.source, shadowed: loaded.shadowed };
    // Edits of keys an environment variable overrides change nothing: the reload report says so.
    const shadowedEdits = loaded.shadowed.filter((s) => previous.shadowed.some((p) => p.key === s.key && p.fileDigest !== s.fileDigest));
    this.last = { at: this.snapshot.loadedAt, trigger, ok: true, changed };
    for (const listener of this.listeners) await listener(this.snapshot, previous, changed);
    return { ok: true, version: this.snapshot.version, changed, restartRequired, ...(shadowedEdits.length > 0 && { shadowedEdits }) };
  }
}

/** Dotted paths (two levels deep: `logging.level`, `auth.tokens`) whose values differ. */
export function changedKeys(a: GatewayConfig, b: GatewayConfig): string[] {
  const out: string[] = [];
  const sections = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof GatewayConfig>;
  for (const section of sections) {
    const left = (a[section] ?? {}) as Record<string, unknown>;
    const right = (b[section] ?? {}) as Record<string, unknown>;
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      if (!isDeepStrictEqual(left[key], right[key])) out.push(`${section}.${key}`);
    }
  }
  return out;
}

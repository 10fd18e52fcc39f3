// The running providers, built from the catalog's upstreams and rebuilt on reload: a provider
// whose settings changed is replaced (the old one finishes its in-flight requests, then closes its
// sockets), an unchanged one is kept with its warm connection pool, and one that re-applies its
// settings itself (Gemini) is updated in place.

import type { GatewayConfig } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import type { AlertSink, Provider, ProviderLog, ProviderRegistry } from '../core/provider.js';
import { SecretRegistry } from '../secrets.js';
import { SharedState } from '../state/shared-state.js';
import { loadUpstreams, upstreams, type ProviderDeps } from './catalog.js';

const SILENT: ProviderLog = { debug() {}, info() {}, warn() {}, error() {} };

export interface RegistryDeps {
  secrets?: SecretRegistry;
  log?: ProviderLog;
  /** Conversations and account state shared between replicas (in memory by default). */
  state?: SharedState;
  alerts?: AlertSink;
}

export class ConfiguredProviders implements ProviderRegistry {
  private readonly running = new Map<string, { key: string; provider: Provider }>();
  private snapshot: Provider[] = [];
  private readonly deps: ProviderDeps;
  /** Resolves when the current config's providers have applied it (Gemini: cookie files loaded). */
  ready: Promise<void> = Promise.resolve();

  /** Load the provider kinds the store's config uses, then build its providers. */
  static async create(store: ConfigStore, deps: RegistryDeps = {}): Promise<ConfiguredProviders> {
    await loadUpstreams(store.current().config);
    return new ConfiguredProviders(store, deps);
  }

  /** The config's provider kinds must be loaded already (`create` does it). */
  constructor(store: ConfigStore, deps: RegistryDeps = {}) {
    this.deps = { secrets: deps.secrets ?? new SecretRegistry(), log: deps.log ?? SILENT, state: deps.state ?? SharedState.memory(), ...(deps.alerts ? { alerts: deps.alerts } : {}) };
    this.apply(store.current().config);
    // A reload may enable a kind not loaded yet: load it before the new config is applied.
    store.onChange(async (next) => {
      await loadUpstreams(next.config);
      this.apply(next.config);
    });
  }

  list(): readonly Provider[] {
    return this.snapshot;
  }

  get(id: string): Provider | undefined {
    return this.running.get(id)?.provider;
  }

  apply(config: GatewayConfig): void {
    const wanted = upstreams(config);
    for (const [id, entry] of this.running) {
      const spec = wanted.find((u) => u.id === id);
      if (!spec || spec.key !== entry.key) {
        this.running.delete(id);
        void entry.provider.close?.();
      }
    }
    const updates: Array<Promise<void>> = [];
    for (const spec of wanted) {
      let entry = this.running.get(spec.id);
      if (!entry) {
        entry = { key: spec.key, provider: spec.create(this.deps) };
        this.running.set(spec.id, entry);
      }
      if (spec.update) updates.push(spec.update(entry.provider));
    }
    this.snapshot = wanted.map((u) => this.running.get(u.id)!.provider);
    this.ready = Promise.all(updates).then(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.values()].map((e) => e.provider.close?.()));
    this.running.clear();
    this.snapshot = [];
  }
}

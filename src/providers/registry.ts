// The running providers, built from the config and rebuilt on reload: a provider whose settings
// changed is replaced (the old one finishes its in-flight requests, then closes its sockets); an
// unchanged one is kept with its warm connection pool.

import type { GatewayConfig } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import { SecretRegistry } from '../secrets.js';
import { GeminiWebProvider } from './gemini-web/provider.js';
import { OpenAICompatibleProvider, type OpenAICompatibleSettings } from './openai-compatible/provider.js';
import { SharedState } from '../state/shared-state.js';
import type { StoredConversation } from './gemini-web/conversations.js';
import type { Provider, ProviderLog, ProviderRegistry } from '../core/provider.js';

type Upstream = GatewayConfig['openai_compatible'][number];

function settingsFor(id: string, upstream: Omit<Upstream, 'name' | 'enabled' | 'api_key'>, headers: Record<string, string>): OpenAICompatibleSettings {
  const t = upstream.timeouts;
  return {
    id,
    baseUrl: upstream.base_url,
    headers: { ...upstream.headers, ...headers },
    models: upstream.models,
    discoverModels: upstream.discover_models,
    proxy: upstream.proxy,
    timeouts: {
      connectMs: t.connect * 1000,
      firstByteMs: (t.first_byte ?? upstream.fallback.timeout) * 1000,
      idleMs: t.idle * 1000,
      totalMs: t.total * 1000,
    },
  };
}

/** What should run for this config, by provider id. */
export function desiredProviders(config: GatewayConfig): Map<string, OpenAICompatibleSettings> {
  const out = new Map<string, OpenAICompatibleSettings>();
  if (config.g4f.enabled) {
    // g4f takes its own key in g4f-api-key: a Bearer token would be passed on to g4f's upstream.
    const settings = settingsFor('g4f', config.g4f, config.g4f.api_key ? { 'g4f-api-key': config.g4f.api_key } : {});
    settings.providerPinning = config.g4f.provider_pinning;
    out.set('g4f', settings);
  }
  for (const upstream of config.openai_compatible) {
    if (!upstream.enabled) continue;
    out.set(upstream.name, settingsFor(upstream.name, upstream, upstream.api_key ? { authorization: `Bearer ${upstream.api_key}` } : {}));
  }
  return out;
}

const SILENT: ProviderLog = { debug() {}, info() {}, warn() {}, error() {} };

export interface RegistryDeps {
  secrets?: SecretRegistry;
  log?: ProviderLog;
  /** Conversations shared between replicas (in memory by default). */
  state?: SharedState;
}

export class ConfiguredProviders implements ProviderRegistry {
  private readonly running = new Map<string, { key: string; provider: Provider }>();
  private gemini: GeminiWebProvider | undefined;
  private readonly state: SharedState;
  private snapshot: Provider[] = [];
  private readonly secrets: SecretRegistry;
  private readonly log: ProviderLog;
  /** Resolves when the current config's accounts have loaded their cookie files. */
  ready: Promise<void> = Promise.resolve();

  constructor(store: ConfigStore, deps: RegistryDeps = {}) {
    this.secrets = deps.secrets ?? new SecretRegistry();
    this.log = deps.log ?? SILENT;
    this.state = deps.state ?? SharedState.memory();
    this.apply(store.current().config);
    store.onChange((next) => this.apply(next.config));
  }

  list(): readonly Provider[] {
    return this.snapshot;
  }

  get(id: string): Provider | undefined {
    if (id === 'gemini') return this.gemini;
    return this.running.get(id)?.provider;
  }

  apply(config: GatewayConfig): void {
    if (config.gemini.enabled) {
      this.gemini ??= new GeminiWebProvider(this.secrets, this.log, this.state.store<StoredConversation>('conversations', 2000, 3_600_000), this.state.accounts);
      this.ready = this.gemini.apply(config.gemini);
    } else if (this.gemini) {
      void this.gemini.close();
      this.gemini = undefined;
    }
    const desired = desiredProviders(config);
    for (const [id, entry] of this.running) {
      const settings = desired.get(id);
      if (!settings || JSON.stringify(settings) !== entry.key) {
        this.running.delete(id);
        void entry.provider.close?.();
      }
    }
    for (const [id, settings] of desired) {
      if (!this.running.has(id)) this.running.set(id, { key: JSON.stringify(settings), provider: new OpenAICompatibleProvider(settings) });
    }
    this.snapshot = [...(this.gemini ? [this.gemini] : []), ...[...this.running.values()].map((e) => e.provider)];
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.values()].map((e) => e.provider.close?.()));
    await this.gemini?.close();
    this.running.clear();
    this.gemini = undefined;
    this.snapshot = [];
  }
}

// Every upstream kind in one list, and what the rest of the gateway needs to know about each
// configured upstream: its models (for routing), the policy its routes carry (tool emulation,
// retries), how its provider is built and re-applied on reload, and the secrets its config holds.
// Adding an upstream kind = one `kind.ts` next to its provider and one line in KINDS.

import type { GatewayConfig } from '../config/schema.js';
import type { AlertSink, Provider, ProviderLog } from '../core/provider.js';
import type { SecretRegistry } from '../secrets.js';
import type { SharedState } from '../state/shared-state.js';
import { geminiWebKind } from './gemini-web/kind.js';
import { openAICompatibleKind } from './openai-compatible/kind.js';

export interface RetryPolicy {
  enabled: boolean;
  /** Extra attempts on the same route before the next one. */
  maxRetries: number;
}

/** What a provider is built with besides its own config section. */
export interface ProviderDeps {
  secrets: SecretRegistry;
  log: ProviderLog;
  state: SharedState;
  /** Where account state changes go (`alerts.webhook_url`); none in one-shot uses (doctor). */
  alerts?: AlertSink;
}

/** One configured, enabled upstream. */
export interface UpstreamSpec {
  id: string;
  /** Model names served (globs allowed), in this upstream's order. */
  models: string[];
  /** Models (globs) without native tool calling on an upstream that has it. */
  textOnlyModels: string[];
  /** Names routed here as another model without being listed (names older configs still use). */
  aliases?: Record<string, string>;
  retry: RetryPolicy;
  /** Identity of the settings: a running provider with another key is replaced on reload. */
  key: string;
  /**
   * Import the provider's implementation. A kind whose code is large (Gemini web) loads it only
   * for configs that enable it, so a gateway without it never parses that module graph; create()
   * may be called only after this resolved (loadUpstreams does it for a whole config).
   */
  load?(): Promise<void>;
  create(deps: ProviderDeps): Provider;
  /** Re-apply settings to the running provider instead of replacing it (Gemini keeps its sessions). */
  update?(provider: Provider): Promise<void>;
}

export interface ProviderKind {
  /** The upstreams of this kind a config enables, in routing precedence. */
  upstreams(config: GatewayConfig): UpstreamSpec[];
  /** Secret values in this kind's config sections (for the log scrubber). */
  secrets(config: GatewayConfig): Array<string | undefined>;
  /** Proxy and other URLs of this kind that may carry a password. */
  urls(config: GatewayConfig): Array<string | undefined>;
  /** Mask this kind's secrets in a copy of the config shown to operators. */
  mask(copy: GatewayConfig, maskUrl: (url: string | undefined) => string | undefined): void;
  /** Settings that load but will not work as meant (logged at start-up and reload, printed by check-config). */
  warnings?(config: GatewayConfig): string[];
}

/** Routing precedence follows this order (Gemini, then g4f, then `openai_compatible` entries). */
export const KINDS: readonly ProviderKind[] = [geminiWebKind, openAICompatibleKind];

const cache = new WeakMap<GatewayConfig, UpstreamSpec[]>();

/** Enabled upstreams of a config snapshot (cached: snapshots are immutable). */
export function upstreams(config: GatewayConfig): UpstreamSpec[] {
  let specs = cache.get(config);
  if (!specs) {
    specs = KINDS.flatMap((kind) => kind.upstreams(config));
    cache.set(config, specs);
  }
  return specs;
}

/** Load the implementations of every upstream a config enables (before ConfiguredProviders applies it). */
export async function loadUpstreams(config: GatewayConfig): Promise<void> {
  await Promise.all(upstreams(config).map((u) => u.load?.()));
}

export function configWarnings(config: GatewayConfig): string[] {
  return KINDS.flatMap((kind) => kind.warnings?.(config) ?? []);
}

export function upstream(config: GatewayConfig, id: string): UpstreamSpec | undefined {
  return upstreams(config).find((u) => u.id === id);
}

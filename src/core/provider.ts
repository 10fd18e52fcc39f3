// The contract every upstream implements. Providers never see a wire protocol of our clients:
// they take a canonical ChatRequest and yield canonical ChatEvents.

import type { ChatEvent, ChatRequest, ModelInfo } from './types.js';

export interface ProviderCapabilities {
  /** Native function calling; false means tool emulation (src/tools/) wraps this provider. */
  nativeTools: boolean;
  images: boolean;
  thinking: boolean;
}

/** The logging a provider may use (a pino or Fastify request logger fits). */
export interface ProviderLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ProviderCallContext {
  /** The model id to send upstream (after alias resolution). */
  upstreamModel: string;
  /** Aborted when the client disconnects or the request times out: stop upstream work at once. */
  signal: AbortSignal;
  log: ProviderLog;
  requestId: string;
  /** The gateway's own origin as the client reached it (for links the answer carries). */
  origin?: string;
}

export type ProviderState = 'ok' | 'degraded' | 'unavailable' | 'disabled';

/** What /ready and status pages may show: never a secret. */
export interface ProviderHealth {
  state: ProviderState;
  /** True when a request sent now has a chance to succeed. */
  usable: boolean;
  detail?: string;
  /** Per-account states of a provider with several accounts (names and states only). */
  accounts?: Array<{ name: string; state: string }>;
}

export interface Provider {
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * Stream one answer. Failures before any output are thrown as GatewayError (so the router can
   * fall back); failures after output has started are yielded as an `error` event.
   */
  stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent>;
  listModels(): Promise<ModelInfo[]>;
  /** Model names learned at run time (discovery), available synchronously for routing. */
  knownModels?(): string[];
  health(): ProviderHealth;
  /** Release sockets and timers (shutdown, or replacement after a config reload). */
  close?(): Promise<void>;
}

/** The set of live providers. Rebuilt or updated by the owner when the config changes. */
export interface ProviderRegistry {
  list(): readonly Provider[];
  get(id: string): Provider | undefined;
  /** Close every provider (shutdown). */
  close?(): Promise<void>;
}

export class StaticProviderRegistry implements ProviderRegistry {
  private readonly byId: Map<string, Provider>;

  constructor(private readonly providers: readonly Provider[] = []) {
    this.byId = new Map(providers.map((p) => [p.id, p]));
  }

  list(): readonly Provider[] {
    return this.providers;
  }

  get(id: string): Provider | undefined {
    return this.byId.get(id);
  }
}

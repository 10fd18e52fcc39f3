// The contract every upstream implements, and the optional capabilities the shell (admin routes,
// image links, the CLI) asks for instead of knowing provider classes. Providers never see a wire
// protocol of our clients: they take a canonical ChatRequest and yield canonical ChatEvents.

import type { CallBudget } from './call-budget.js';
import type { CallSignal } from './call-signal.js';
import type { ChatEvent, ChatRequest, ModelInfo } from './types.js';

export interface ProviderCapabilities {
  /** Native function calling; false means tool emulation (src/tools/) wraps this provider. */
  nativeTools: boolean;
  /** Can search the web itself (a hosted `web_search` tool); requests offering one go only to such routes. */
  webSearch?: boolean;
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
  /**
   * Aborted when the client disconnects or the request times out: stop upstream work at once. A
   * real AbortSignal fits; `abortSignalOf` gives one where a library needs it (core/call-signal.ts).
   */
  signal: CallSignal;
  log: ProviderLog;
  requestId: string;
  /** The gateway's own origin as the client reached it (for links the answer carries). */
  origin?: string;
  /** Every upstream call of this request draws from it (fallback, account failover, re-asks). */
  budget?: CallBudget;
  /** Told which account answered (providers with several accounts), for usage per account. */
  servedBy?(account: string): void;
}

export type ProviderState = 'ok' | 'degraded' | 'unavailable' | 'disabled';

/** What /ready and status pages may show: never a secret. */
export interface ProviderHealth {
  state: ProviderState;
  /** True when a request sent now has a chance to succeed. */
  usable: boolean;
  detail?: string;
  /** Per-account states of a provider with several accounts (names and states only). */
  accounts?: Array<{ name: string; state: string; hint?: string }>;
}

/** Accounts signed in with browser cookies (Gemini web): what /admin/cookies* and /metrics use. */
export interface CookieAccounts {
  /** Account names in configured order (the first is the default). */
  names(): string[];
  /** The account's name (the default account's when none is given); not_found for an unknown one. */
  resolve(account: string | undefined): string;
  /** Per-account status for operators, cookie values masked. */
  status(): Array<Record<string, unknown>>;
  /**
   * Validate and save new cookies (any supported format); the old ones stay on failure. With
   * `verify: false` they are saved without asking Google (offline set-ups). Returns the account's status.
   */
  replace(account: string | undefined, input: unknown, options?: { verify?: boolean }): Promise<Record<string, unknown>>;
  /** What pasted cookies would give, without saving them. */
  check(account: string | undefined, input: unknown): Promise<{ account: string } & Record<string, unknown>>;
  /** A one-line prompt through one account; resolves to the answer text. */
  test(account: string | undefined, model: string, signal: AbortSignal): Promise<{ account: string; answer: string }>;
  rotate(account: string | undefined): Promise<{ account: string; rotation: unknown }>;
}

/** Signed, expiring links to images an answer produced (served publicly at /images/<token>). */
export interface ImageLinks {
  fetchImage(token: string): Promise<{ status: number; type: string; body: Buffer }>;
}

/** What the Images API asks for: a prompt (and images to edit) for a model. */
export interface ImageRequest {
  /** The upstream model (after routing); undefined = the provider's default. */
  model?: string;
  prompt: string;
  /** How many images are wanted (one turn each; a turn may give fewer or more). */
  n: number;
  /** Images to edit (base64 data). */
  images?: Array<{ data: string; mimeType: string }>;
}

/** One generated image: the gateway's signed link to it and its bytes. */
export interface GeneratedImage {
  url: string;
  mimeType: string;
  data: Buffer;
  alt?: string;
  /** What the model said alongside the image (OpenAI's `revised_prompt`). */
  text?: string;
}

/** Image generation (and edits) for `POST /v1/images/*`. */
export interface ImageGeneration {
  generate(request: ImageRequest, context: Omit<ProviderCallContext, 'upstreamModel' | 'budget'>): Promise<GeneratedImage[]>;
}

/** Read-only JSON from the upstream's own API (g4f's provider list for `provider_pinning`). */
export interface UpstreamQuery {
  getJson(path: string): Promise<unknown>;
}

/** One step of `gemini-gateway doctor`: runs, prints ✓/✗ with the detail, returns whether it passed. */
export type DoctorStep = (name: string, run: () => Promise<string | void>) => Promise<boolean>;

export interface Diagnosable {
  /** Try every step against the real upstream and report each; true when all passed. */
  diagnose(step: DoctorStep, print: (line: string) => void): Promise<boolean>;
}

export interface Provider {
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * Stream one answer. Failures before any output are thrown as GatewayError (so the router can
   * fall back); failures after output has started are yielded as an `error` event.
   */
  stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent>;
  /** The same events, all of one upstream read at once (the pipeline prefers it: one async step per read). */
  streamBatches?(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent[]>;
  listModels(): Promise<ModelInfo[]>;
  /** Model names learned at run time (discovery), available synchronously for routing. */
  knownModels?(): string[];
  health(): ProviderHealth;
  /** Release sockets and timers (shutdown, or replacement after a config reload). */
  close?(): Promise<void>;

  // Optional capabilities: the shell asks for one, never for a provider class.
  readonly cookieAccounts?: CookieAccounts;
  readonly imageLinks?: ImageLinks;
  readonly imageGeneration?: ImageGeneration;
  readonly upstreamQuery?: UpstreamQuery;
  readonly doctor?: Diagnosable;
}

/** An account changed state in a way an operator wants to hear about (expired, blocked, recovered). */
export interface AccountAlert {
  provider: string;
  account: string;
  state: string;
  previous: string;
  reason: string;
  at: string;
}

export interface AlertSink {
  accountState(alert: AccountAlert): void;
}

/** The set of live providers. Rebuilt or updated by the owner when the config changes. */
export interface ProviderRegistry {
  list(): readonly Provider[];
  get(id: string): Provider | undefined;
  /** Close every provider (shutdown). */
  close?(): Promise<void>;
}

/** The first live provider offering a capability (e.g. `capability(providers, 'cookieAccounts')`). */
export function capability<K extends 'cookieAccounts' | 'imageLinks' | 'imageGeneration' | 'upstreamQuery' | 'doctor'>(
  providers: ProviderRegistry,
  name: K,
  id?: string,
): NonNullable<Provider[K]> | undefined {
  const candidates = id ? [providers.get(id)] : providers.list();
  for (const provider of candidates) {
    const found = provider?.[name];
    if (found) return found as NonNullable<Provider[K]>;
  }
  return undefined;
}

// Gemini through the consumer web app: the accounts and which one answers. Picks an account (the
// conversation's own one on a reuse hit, else round-robin over healthy accounts whose egress is
// not IP-blocked), runs the turn (generate.ts), and on a failure before any output: re-reads the
// page and tries once more (stale build label or token), tries an empty answer (1155) again on
// the same account, or fails over to the next account on another egress; after output the failure
// ends the stream. Offers the cookie-account, image-link and doctor capabilities.

import { abortSignalOf } from '../../core/call-signal.js';
import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { AlertSink, CookieAccounts, Diagnosable, ImageGeneration, ImageLinks as ImageLinkCapability, Provider, ProviderCallContext, ProviderHealth, ProviderLog } from '../../core/provider.js';
import type { ChatEvent, ChatRequest, ModelInfo } from '../../core/types.js';
import { transportError } from '../../net/transport-errors.js';
import type { SecretRegistry } from '../../secrets.js';
import { SOLO, type AccountCoordinator } from '../../state/account-coordinator.js';
import { MemoryTtlStore, type TtlStore } from '../../state/ttl-store.js';
import { metrics } from '../../metrics.js';
import { Account, type AccountEvents, type AccountSettings } from './account.js';
import { EgressBlocks } from './egress.js';
import { cookieAccounts } from './cookie-admin.js';
import { prefixKeys, type StoredConversation } from './conversations.js';
import { diagnoseGemini } from './doctor.js';
import { GeminiError } from './errors.js';
import { fetchSecurityOptions } from '../../net/url-guard.js';
import type { FetchOptions } from './attachments.js';
import { generateTurn, type Attempt, type TurnContext } from './generate.js';
import { generateImages } from './image-generation.js';
import { ImageLinks } from './image-links.js';
import { ImageCache } from './image-cache.js';

type GeminiConfig = GatewayConfig['gemini'];

function accountSettings(config: GeminiConfig, proxy: string | undefined, authUser: number | undefined): AccountSettings {
  return {
    endpoints: config.endpoints,
    language: config.language,
    connectTimeoutMs: config.timeouts.connect * 1000,
    proxy: proxy ?? config.proxy,
    cooldownMs: { usageLimit: config.cooldown.usage_limit * 1000, blocked: config.cooldown.blocked * 1000 },
    authUser,
    pageRefreshMs: config.page_refresh_interval * 1000,
    guest: config.guest === 'auto',
  };
}

export class GeminiWebProvider implements Provider {
  readonly id = 'gemini';
  readonly capabilities = { nativeTools: false, webSearch: true };
  private readonly accounts = new Map<string, Account>();
  private order: Account[] = [];
  private next = 0;
  private config!: GeminiConfig;
  readonly images = new ImageLinks();
  private readonly imageCache = new ImageCache('cache/images', 200 * 1024 * 1024);
  private loading: Promise<void> = Promise.resolve();
  /** IP blocks by egress (proxy or direct): accounts behind a blocked egress are not tried. */
  readonly egress: EgressBlocks;
  private fetching: FetchOptions = fetchSecurityOptions({ fetch_allow: [], fetch_timeout: 15 });

  readonly cookieAccounts: CookieAccounts = cookieAccounts(this);
  readonly imageLinks: ImageLinkCapability = { fetchImage: (token) => this.fetchImage(token) };
  readonly imageGeneration: ImageGeneration = {
    generate: (request, context) => generateImages(this, request, context),
  };
  readonly doctor: Diagnosable = { diagnose: (step, print) => diagnoseGemini(this, this.config, step, print) };

  ipBlocks(): Array<{ egress: string; until: string }> {
    return this.egress.list();
  }

  constructor(
    private readonly secrets: SecretRegistry,
    private readonly log: ProviderLog,
    /** Finished turns by key, in memory or shared between replicas. */
    readonly conversations: TtlStore<StoredConversation> = new MemoryTtlStore(2000, 3_600_000),
    private readonly shared: AccountCoordinator = SOLO,
    private readonly alerts?: AlertSink,
  ) {
    this.egress = new EgressBlocks(shared === SOLO ? undefined : shared);
  }

  private alert(account: string, previous: string, state: string, reason: string): void {
    this.alerts?.accountState({ provider: this.id, account, previous, state, reason, at: new Date().toISOString() });
  }

  private readonly events: AccountEvents = {
    ipBlocked: (account) => {
      const until = Date.now() + this.config.cooldown.ip_block * 1000;
      this.egress.block(account.egress, until);
      metrics.ipBlocks.inc();
      this.alert(account.name, account.displayState, 'ip_blocked', `Google is blocking ${account.egress} until ${new Date(until).toISOString()}`);
      this.log.warn({ account: account.name, egress: account.egress, until: new Date(until).toISOString() }, 'google is blocking this IP: its accounts rest until the block lifts');
    },
    stateChanged: (account, previous, next, reason) => {
      // Usage-limit rests are routine; expiry, blocks and recoveries are what an operator acts on.
      const recovered = next === 'ok' && (previous === 'expired' || previous === 'blocked');
      if (next === 'expired' || next === 'blocked' || recovered) this.alert(account.name, previous, next, reason);
    },
  };

  /** Apply `gemini.*` (start-up and every reload): accounts, rotation, conversation limits; and how
   * attachment URLs are fetched (`security.*`). */
  apply(config: GeminiConfig, fetching?: FetchOptions): Promise<void> {
    this.config = config;
    this.imageCache.configure(config.image_cache.dir, config.image_cache.max_bytes);
    if (fetching) this.fetching = fetching;
    this.conversations.configure(config.conversations.max_entries, config.conversations.ttl * 1000);
    const wanted = config.accounts.length > 0 ? config.accounts : [{ name: 'default', cookie_path: config.cookie_path, proxy: undefined, auth_user: config.auth_user }];
    const loads: Array<Promise<void>> = [];
    for (const [name, account] of this.accounts) {
      const spec = wanted.find((w) => w.name === name);
      if (!spec || spec.cookie_path !== account.cookiePath) {
        this.accounts.delete(name);
        void account.close();
      }
    }
    for (const spec of wanted) {
      const settings = accountSettings(config, spec.proxy, spec.auth_user);
      let account = this.accounts.get(spec.name);
      if (account) {
        account.updateSettings(settings);
        if (account.state === 'no_cookies') loads.push(account.load()); // the file may exist now
      } else {
        account = new Account(spec.name, spec.cookie_path, settings, this.secrets, this.log, this.shared, this.events);
        this.accounts.set(spec.name, account);
        loads.push(account.load());
      }
      account.scheduleRotation(config.auto_refresh, config.refresh_interval * 1000);
      account.schedulePageRefresh(config.page_refresh_interval * 1000);
    }
    this.order = wanted.map((w) => this.accounts.get(w.name)!);
    this.loading = Promise.all(loads).then(() => undefined);
    return this.loading;
  }

  account(name?: string): Account | undefined {
    return name ? this.accounts.get(name) : this.order[0];
  }

  accountNames(): string[] {
    return this.order.map((a) => a.name);
  }

  async *stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent> {
    await this.loadAccounts();
    // Cookies, cool-downs and IP blocks other replicas saw (a no-op without Redis).
    await Promise.all(this.order.map((a) => a.syncShared()));
    await this.egress.sync(this.order.map((a) => a.egress));
    const config = this.config;
    const turn = this.turnContext(config);
    const attempts = await this.plan(request, context.upstreamModel);
    if (attempts.length === 0) throw this.noAccount();
    let lastError: GatewayError | undefined;
    // The caller's budget paid for the first call; every further one (next account, page re-read,
    // new chat, empty answer) draws from it too.
    let calls = 0;
    const another = (reason: string) => calls++ === 0 || (context.budget?.take(reason) ?? true);
    for (const attempt of attempts) {
      // An IP block seen on an earlier attempt rests every account behind that egress.
      if (this.egress.blockedUntil(attempt.account.egress) !== undefined) continue;
      let produced = false;
      let pageReloaded = false;
      let rotated = false;
      let empties = 0;
      let reason = 'account';
      for (;;) {
        if (!another(reason)) throw lastError ?? this.noAccount();
        try {
          for await (const event of generateTurn(turn, request, context, attempt)) {
            if (!produced) context.servedBy?.(attempt.account.name);
            produced = true;
            yield request.imageOutput && event.type === 'image' ? await this.withImageData(event) : event;
          }
          return;
        } catch (error) {
          if (produced || context.signal.aborted) throw error;
          let failure = error instanceof GatewayError ? error : transportError(error, 'Gemini');
          lastError = failure;
          if (failure instanceof GeminiError && failure.code === 'gemini_stale_page' && !pageReloaded) {
            // HTTP 405 (stale build label) or 400 (stale token): re-read /app once and retry, unless
            // the page shows the account signed out (then that is the failure).
            pageReloaded = true;
            reason = 'page';
            const reread: unknown = await attempt.account.refreshToken(abortSignalOf(context.signal)).then(() => undefined, (e: unknown) => e);
            if (!(reread instanceof GeminiError && reread.effect !== 'none')) continue;
            failure = lastError = reread;
          }
          if (failure instanceof GeminiError) {
            if (failure.geminiCode === 1050 && attempt.reuse) {
              // The stored chat used another model: start a new chat instead.
              delete attempt.reuse;
              reason = 'reuse';
              continue;
            }
            if (failure.code === 'gemini_empty' && empties < config.empty_retries) {
              empties++;
              reason = 'empty';
              continue;
            }
            if (failure.effect === 'expired' && !rotated && attempt.account.state !== 'expired') {
              rotated = true;
              if (await attempt.account.renew()) {
                reason = 'rotate';
                continue;
              }
            }
            if (failure.code === 'usage_limit') await this.restUntilQuotaResets(attempt.account, abortSignalOf(context.signal));
            attempt.account.mark(failure.effect, failure);
          }
          if (!failure.retryable && !(failure instanceof GeminiError && failure.effect !== 'none')) throw failure;
          context.log.warn({ provider: 'gemini', account: attempt.account.name, kind: failure.kind, err: failure.message }, 'gemini account failed before output');
          break;
        }
      }
    }
    // Everything left behind a blocked egress: say so, with when it lifts.
    if (lastError instanceof GeminiError && lastError.effect === 'ip_block') throw this.noAccount();
    throw lastError ?? new GeminiError('upstream_unavailable', 'No Gemini account could answer');
  }

  /** After a usage limit (1037): rest the account until Google's quota window resets, when it says (jSf9Qc). */
  private async restUntilQuotaResets(account: Account, signal: AbortSignal): Promise<void> {
    const session = await account.ready(signal).catch(() => undefined);
    const reset = await session?.quotaResetAt(signal).catch(() => undefined);
    // Bounded: a quota answer far in the future (the weekly window) or in the past is not trusted blindly.
    if (reset !== undefined && reset > Date.now() + 30_000 && reset < Date.now() + 8 * 86_400_000) account.restUntil = reset;
  }

  /** One short prompt through one account (the console's "test" button). */
  async probe(accountName: string, model: string, signal: AbortSignal): Promise<string> {
    await this.loading;
    const account = this.accounts.get(accountName);
    if (!account) throw new GatewayError('not_found', `No Gemini account named "${accountName}"`, { code: 'unknown_account' });
    const request: ChatRequest = { model, system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'Reply with the single word OK.' }] }], tools: [], toolChoice: { type: 'auto' }, stream: true };
    const context: ProviderCallContext = { upstreamModel: model, signal, log: this.log, requestId: 'probe' };
    const turn = this.turnContext({ ...this.config, conversations: { ...this.config.conversations, reuse: false } });
    let text = '';
    try {
      for await (const event of generateTurn(turn, request, context, { account })) {
        if (event.type === 'text-delta') text += event.text;
      }
    } catch (error) {
      if (error instanceof GeminiError) account.mark(error.effect, error);
      throw error;
    }
    return text.trim();
  }

  private turnContext(config: GeminiConfig): TurnContext {
    return {
      config,
      fetching: this.fetching,
      conversations: this.conversations,
      images: this.images,
      noteServed: (name, served) => {
        const account = this.accounts.get(name);
        if (account) account.lastServed = served;
      },
    };
  }

  /**
   * Why no account can serve: resting ones give a 429 with the time until the first is back, an IP
   * block says so with the time it lifts. No cookies or only expired ones cannot be fixed by trying
   * again: not retryable (fallbacks still apply).
   */
  private noAccount(): GeminiError {
    if (this.accounts.size === 0) return new GeminiError('upstream_unavailable', 'No Gemini account is configured', 'none', { code: 'no_usable_account', retryable: false });
    const blocked = this.order.map((a) => this.egress.blockedUntil(a.egress)).filter((u): u is number => u !== undefined);
    const usableElsewhere = this.order.some((a) => a.usable() && this.egress.blockedUntil(a.egress) === undefined);
    if (blocked.length > 0 && !usableElsewhere) {
      const lifts = Math.min(...blocked);
      const retryAfter = Math.max(1, Math.ceil((lifts - Date.now()) / 1000));
      return new GeminiError('rate_limited', `Google is blocking this gateway's IP for Gemini (unusual traffic); the block lifts at about ${new Date(lifts).toISOString()} (in ${Math.ceil(retryAfter / 60)} min)`, 'none', { code: 'ip_blocked', retryAfter });
    }
    const resting = this.order.filter((a) => (a.state === 'cooling' || a.state === 'blocked') && a.until !== undefined);
    if (resting.length > 0) {
      const soonest = Math.min(...resting.map((a) => a.until!));
      const retryAfter = Math.max(1, Math.ceil((soonest - Date.now()) / 1000));
      const kind = resting.every((a) => a.state === 'blocked') ? 'upstream_overloaded' : 'rate_limited';
      return new GeminiError(kind, `Every Gemini account is resting after a usage limit or block; the first is back in ${retryAfter} s`, 'none', { code: 'accounts_resting', retryAfter });
    }
    if (this.order.every((a) => a.state === 'no_cookies')) {
      return new GeminiError('upstream_unavailable', 'Gemini has no cookies yet: POST them to /admin/cookies (or write gemini.cookie_path)', 'none', { code: 'no_cookies', retryable: false });
    }
    const why = this.order.map((a) => `${a.name}: ${a.displayState}${a.lastError ? ` (${a.lastError})` : ''}`).join('; ');
    return new GeminiError('upstream_unavailable', `No Gemini account is usable right now: ${why}`, 'none', { code: 'no_usable_account', retryable: false });
  }

  /** The conversation's own account first (reuse), then the healthy others round-robin. */
  private async plan(request: ChatRequest, model: string): Promise<Attempt[]> {
    const usable = this.order.filter((a) => a.usable() && this.egress.blockedUntil(a.egress) === undefined);
    // Signed-in accounts first; accounts answering as a guest only when none is left.
    const healthy = [...usable.filter((a) => !a.isGuest), ...usable.filter((a) => a.isGuest)];
    if (healthy.length === 0) return [];
    if (this.config.conversations.reuse && request.messages.length > 1) {
      for (const { key, length } of prefixKeys(request, model)) {
        const stored = await this.conversations.get(key);
        if (!stored) continue;
        const account = this.accounts.get(stored.account);
        if (account?.usable() && !account.isGuest) return [{ account, reuse: { stored, length } }, ...healthy.filter((a) => a !== account).map((a) => ({ account: a }))];
        break;
      }
    }
    // New conversations take turns over the healthy accounts.
    const start = this.next++ % healthy.length;
    return [...healthy.slice(start), ...healthy.slice(0, start)].map((account) => ({ account }));
  }

  /** Accounts loaded; a cookie file put in place by hand (not through /admin/cookies) is picked up on first use. */
  private async loadAccounts(): Promise<void> {
    await this.loading;
    await Promise.all(this.order.filter((a) => a.state === 'no_cookies').map((a) => a.load()));
  }

  /** Whether a signed-in account can answer now, and whether a guest one exists (image generation needs the former). */
  async signedInAccounts(): Promise<{ signedIn: boolean; guest: boolean }> {
    await this.loadAccounts();
    return { signedIn: this.order.some((a) => a.usable() && !a.isGuest), guest: this.order.some((a) => a.isGuest) };
  }

  defaultModel(): string {
    return this.config.models[0]!;
  }

  /** A generated image with its bytes (base64), for clients that asked for image data; a web
   *  image, or one that cannot be fetched, stays a link. */
  private async withImageData(event: Extract<ChatEvent, { type: 'image' }>): Promise<ChatEvent> {
    const at = event.url.lastIndexOf('/images/');
    if (at === -1) return event;
    try {
      const image = await this.fetchImage(event.url.slice(at + '/images/'.length));
      if (image.status !== 200) return event;
      return { ...event, mimeType: image.type.split(';')[0]!.trim(), data: image.body.toString('base64') };
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'generated image could not be fetched: sent as a link');
      return event;
    }
  }

  /** Serve a signed image link: fetch the image with the account's cookies. */
  async fetchImage(token: string): Promise<{ status: number; type: string; body: Buffer }> {
    const link = this.images.verify(token);
    if (!link) throw new GatewayError('not_found', 'This image link is invalid or expired', { code: 'image_link_invalid' });
    const account = this.accounts.get(link.account);
    if (!account) throw new GatewayError('not_found', 'The account of this image is gone', { code: 'image_link_invalid' });
    // Served from disk when fetched before (a link opened twice, b64_json then the link).
    return this.imageCache.through(link.url, async () => (await account.ready()).fetchBinary(link.url));
  }

  async listModels(): Promise<ModelInfo[]> {
    return (this.config?.models ?? []).map((id) => ({ id, provider: this.id }));
  }

  health(): ProviderHealth {
    const states = this.order.map((a) => {
      const blocked = this.egress.blockedUntil(a.egress) !== undefined;
      return { name: a.name, state: blocked ? 'ip_blocked' : a.displayState, usable: a.usable() && !blocked, hint: a.hint() };
    });
    const usable = states.some((s) => s.usable);
    const blocks = this.egress.list();
    return {
      state: usable ? (states.every((s) => s.usable) ? 'ok' : 'degraded') : 'unavailable',
      usable,
      accounts: states.map(({ name, state, hint }) => ({ name, state, ...(hint ? { hint } : {}) })),
      ...(blocks.length ? { detail: `IP blocked: ${blocks.map((b) => `${b.egress} until ${b.until}`).join(', ')}` } : {}),
    };
  }

  /** Per-account status for operators; an account behind a blocked egress shows `ip_blocked` until it lifts. */
  status(): Record<string, unknown>[] {
    return this.order.map((a) => {
      const status = a.status(this.config.auto_refresh);
      const blocked = this.egress.blockedUntil(a.egress);
      status.egress = a.egress;
      if (blocked !== undefined) Object.assign(status, { state: 'ip_blocked', until: new Date(blocked).toISOString(), last_error: status.last_error ?? 'Google is blocking this IP' });
      return status;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.accounts.values()].map((a) => a.close()));
  }
}

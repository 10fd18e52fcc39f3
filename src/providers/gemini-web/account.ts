// One Gemini account: its cookies (file, paste, check), its session (initialized once,
// re-initialized after a failure), its health (ok / cooling until / blocked until / expired) and
// its status for operators. Rotation (account-rotation.ts) and what other replicas learned
// (account-sync.ts) work through the small interfaces those files declare. Cookie values are
// registered with the secret registry so no log line can carry them.

import type { SecretRegistry } from '../../secrets.js';
import { mask } from '../../secrets.js';
import type { ProviderLog } from '../../core/provider.js';
import { SOLO, type AccountCoordinator } from '../../state/account-coordinator.js';
import { CookieRotation, DEVICE_BOUND, type RotatingAccount, type RotationRecord } from './account-rotation.js';
import { syncFromReplicas, type SyncedAccount } from './account-sync.js';
import { loadCookieFile, parseCookieInput, PSID, PSIDTS, saveCookieFile, type CookieSet } from './cookie-file.js';
import { GeminiError, type AccountEffect } from './errors.js';
import { egressOf } from './egress.js';
import { GeminiSession, type Endpoints } from './session.js';

export type { RotationRecord } from './account-rotation.js';
export { DEVICE_BOUND } from './account-rotation.js';

export type AccountState = 'ok' | 'cooling' | 'blocked' | 'expired' | 'no_cookies';

export interface AccountSettings {
  endpoints: Endpoints;
  language: string;
  connectTimeoutMs: number;
  proxy?: string | undefined;
  cooldownMs: { usageLimit: number; blocked: number };
  /** The browser's N-th signed-in account (`/u/N`). */
  authUser?: number | undefined;
  /** Background re-read of /app and the model list (ms; 0 = never). */
  pageRefreshMs?: number;
  /** Without cookies, answer as a signed-out visitor (`gemini.guest: auto`). */
  guest?: boolean;
}

/** What the account tells its provider (the egress it uses is blocked; the usage window resets at). */
export interface AccountEvents {
  ipBlocked(account: Account): void;
  stateChanged?(account: Account, previous: AccountState, next: AccountState, reason: string): void;
}

export class Account implements RotatingAccount, SyncedAccount {
  private cookies: CookieSet | undefined;
  private session: GeminiSession | undefined;
  private starting: Promise<GeminiSession | undefined> | undefined;
  private cachedAt: string | undefined;
  state: AccountState = 'no_cookies';
  until: number | undefined;
  lastError: string | undefined;
  /**
   * The last rotation gave no new __Secure-1PSIDTS: how a session Chrome bound to the device (DBSC)
   * fails; it dies within hours whatever the gateway does.
   */
  deviceBound = false;
  /** The model Google last said it served this account (`[39]`/`[42]` of an answer). */
  lastServed: { id?: string; name?: string } | undefined;
  /** When the next usage-limit rest ends, if Google said (quota reset time); used once. */
  restUntil: number | undefined;
  private readonly rotation: CookieRotation;

  constructor(
    readonly name: string,
    readonly cookiePath: string,
    private settings: AccountSettings,
    private readonly secrets: SecretRegistry,
    private readonly log: ProviderLog,
    private readonly shared: AccountCoordinator = SOLO,
    private readonly events?: AccountEvents,
  ) {
    this.rotation = new CookieRotation(this, shared, log);
  }

  /** Where this account's requests leave from (its proxy, or "direct"): the unit an IP block rests. */
  get egress(): string {
    return egressOf(this.settings.proxy);
  }

  /** When the session last read /app (the build label's age), if it has. */
  get pageLoadedAt(): number | undefined {
    return this.session?.pageLoadedAt;
  }

  /** The models the account lists (otAQ7b), once a session has read them. */
  get models(): GeminiSession['models'] {
    return this.session?.models ?? [];
  }

  /** Re-read the page every `everyMs` (Google rolls out new build labels; a stale one gets 405). */
  schedulePageRefresh(everyMs: number): void {
    if (this.pageTimer) clearInterval(this.pageTimer);
    this.pageTimer = undefined;
    if (everyMs <= 0) return;
    this.pageTimer = setInterval(() => void this.refreshPage().catch(() => undefined), everyMs);
    this.pageTimer.unref();
  }

  private pageTimer: NodeJS.Timeout | undefined;

  /** Re-read /app (build label, tokens) and the account's models; a failure marks the account. */
  async refreshPage(signal?: AbortSignal): Promise<void> {
    if (!this.session && this.state === 'expired' && this.cookies) {
      // Expired once is not expired forever: Google answered as a guest for a while, or PSIDTS died
      // and a rotation brings it back (when rotation is on). Try again, quietly.
      const signedIn = () => this.ready(signal).then(() => true, () => false);
      if (!(await signedIn()) && (await this.renew())) await signedIn();
      if (this.session) this.setState('ok', 'signed in again');
      return;
    }
    const session = this.session;
    if (!session) return;
    try {
      await session.loadPage(signal);
      await session.loadStatus(signal);
      if (session.at) this.cachedAt = session.at;
    } catch (error) {
      if (!(error instanceof GeminiError)) throw error;
      // PSIDTS died between rotations: rotate now rather than leave the account expired until someone asks.
      if (error.effect === 'expired' && (await this.renew())) return;
      this.mark(error.effect, error);
    }
  }

  private loading: Promise<void> = Promise.resolve();

  /** Read the cookie file (missing file = no cookies yet; the admin endpoint can add them). */
  load(): Promise<void> {
    this.loading = this.readCookieFile();
    return this.loading;
  }

  private async readCookieFile(): Promise<void> {
    try {
      const set = await loadCookieFile(this.cookiePath);
      if (set) this.useCookies(set);
    } catch (error) {
      this.lastError = `cookie file ${this.cookiePath}: ${(error as Error).message}`;
      this.log.warn({ account: this.name, err: this.lastError }, 'gemini account has unreadable cookies');
    }
  }

  updateSettings(settings: AccountSettings): void {
    const transportChanged =
      JSON.stringify(settings.endpoints) !== JSON.stringify(this.settings.endpoints) ||
      settings.proxy !== this.settings.proxy ||
      settings.authUser !== this.settings.authUser ||
      (this.session?.guest === true && !settings.guest);
    this.settings = settings;
    if (transportChanged) this.dropSession();
  }

  /** Usable now: has cookies and is not resting. A rest that has passed ends here. */
  usable(now = Date.now()): boolean {
    if (this.state === 'cooling' || this.state === 'blocked') {
      if (this.until !== undefined && now >= this.until) {
        this.setState(this.cookies ? 'ok' : 'no_cookies', 'the rest is over');
        this.until = undefined;
      }
    }
    return this.state === 'ok' || this.isGuest;
  }

  /** What the operator should do about this account, when there is something. */
  hint(): string | null {
    if (this.deviceBound) return DEVICE_BOUND;
    if (this.isGuest) return 'answering as a guest (Flash models only): add cookies to use every model';
    if (this.state === 'expired') return 'cookies expired: paste new ones (POST /admin/cookies, the console, or the cookie-sync extension)';
    return null;
  }

  /** What operators see: `guest` for an account answering as a visitor. */
  get displayState(): string {
    return this.isGuest ? 'guest' : this.state;
  }

  /** No cookies and guest mode on: requests go out as a signed-out visitor (Flash models only). */
  get isGuest(): boolean {
    return this.state === 'no_cookies' && !this.cookies && this.settings.guest === true;
  }

  /** The initialized session (single flight; a failed init is forgotten so the next call retries). */
  async ready(signal?: AbortSignal): Promise<GeminiSession> {
    await this.loading;
    for (;;) {
      if (this.session) return this.session;
      if (!this.cookies && !this.isGuest) throw new GeminiError('upstream_unavailable', `Gemini account ${this.name} has no cookies`, 'none', { code: 'no_cookies' });
      this.starting ??= this.start(this.cookies, signal).finally(() => {
        this.starting = undefined;
      });
      const session = await this.starting;
      if (session) return session;
    }
  }

  /** A session on `set` (none: a guest's); undefined when the cookies were replaced while it started (start again). */
  private async start(set: CookieSet | undefined, signal?: AbortSignal): Promise<GeminiSession | undefined> {
    const session = this.newSession(set);
    try {
      await session.init(signal);
    } catch (error) {
      await session.close();
      throw error;
    }
    if (this.cookies !== set) {
      void session.close();
      return undefined;
    }
    if (session.at) this.cachedAt = session.at;
    this.session = session;
    return session;
  }

  /** Re-read the page for a fresh access token (after an HTTP 400). */
  async refreshToken(signal?: AbortSignal): Promise<void> {
    const session = await this.ready(signal);
    await session.loadPage(signal);
    if (session.at) this.cachedAt = session.at;
    // A page without a token of its own may be a signed-out one: the account status says (1016).
    if (!session.pageHadToken) await session.loadStatus(signal);
  }

  /** Record the effect of a failure on this account's health. */
  mark(effect: AccountEffect, error: Error): void {
    this.lastError = error.message;
    if (effect === 'none') return;
    if (effect === 'ip_block') {
      // The IP is blocked, not the account: its egress rests (the provider decides for how long).
      this.events?.ipBlocked(this);
      return;
    }
    this.dropSession();
    if (effect === 'expired') {
      this.until = undefined;
      this.setState('expired', error.message);
    } else {
      this.until = effect === 'cooling' && this.restUntil !== undefined ? this.restUntil : Date.now() + (effect === 'cooling' ? this.settings.cooldownMs.usageLimit : this.settings.cooldownMs.blocked);
      this.setState(effect, error.message);
      this.restUntil = undefined;
      void this.shared.rest(this.name, effect, this.until);
    }
    this.log.warn({ account: this.name, state: this.state, until: this.until ? new Date(this.until).toISOString() : null, err: error.message }, 'gemini account state changed');
  }

  /** Validate new cookies with a real session before swapping; the old ones stay on failure. */
  async replaceCookies(input: unknown): Promise<void> {
    const { set, session } = await this.openWith(input);
    set.updatedAt = new Date().toISOString();
    await saveCookieFile(this.cookiePath, set);
    const old = this.session;
    this.session = session;
    if (session.at) this.cachedAt = session.at;
    this.useCookies(set);
    this.lastError = undefined;
    void old?.close();
    await this.shared.publish(this.name, set);
  }

  /** What pasted cookies would give, without saving them: the account status and its models. */
  async checkCookies(input: unknown): Promise<{ psid: string | null; psidts: string | null; account_status: number | null; models: string[] }> {
    const { set, session } = await this.openWith(input);
    const result = {
      psid: mask(set.cookies[PSID]),
      psidts: mask(set.cookies[PSIDTS]),
      account_status: session.accountStatus ?? null,
      models: session.models.map((m) => m.display || m.id),
    };
    await session.close();
    return result;
  }

  /** Parse any cookie format and open a session with it (Google must accept the cookies). */
  private async openWith(input: unknown): Promise<{ set: CookieSet; session: GeminiSession }> {
    const set = parseCookieInput(input);
    const session = this.newSession(set);
    try {
      await session.init();
    } catch (error) {
      await session.close();
      throw new GeminiError('invalid_request', `These cookies do not open a Gemini session (${(error as Error).message}); the old cookies were kept`, 'none', { code: 'invalid_cookies' });
    }
    return { set, session };
  }

  /**
   * Cookies that look expired get one rotation first, when rotation is on: __Secure-1PSIDTS dies
   * within the hour unless rotated (a laptop asleep misses the timer). True when it brought a new one.
   */
  async renew(): Promise<boolean> {
    if (!this.rotation.enabled || !this.cookies) return false;
    return (await this.rotation.rotate()).result === 'rotated';
  }

  /** Rotate __Secure-1PSIDTS now and persist it (account-rotation.ts). */
  rotate(): Promise<RotationRecord> {
    return this.rotation.rotate();
  }

  /** A timer tick: of all replicas only the one that claims the account this interval rotates. */
  scheduledRotation(intervalMs: number): Promise<RotationRecord | undefined> {
    return this.rotation.scheduled(intervalMs);
  }

  /** Rotate every `intervalMs` while enabled. */
  scheduleRotation(enabled: boolean, intervalMs: number): void {
    this.rotation.schedule(enabled, intervalMs);
  }

  /** What other replicas learned about this account (a newer cookie, a cool-down); a no-op alone. */
  async syncShared(): Promise<void> {
    if (this.shared !== SOLO) await syncFromReplicas(this, this.shared, this.log);
  }

  // For rotation and replica sync (RotatingAccount, SyncedAccount).
  cookieSet(): CookieSet | undefined {
    return this.cookies;
  }

  bareSession(): GeminiSession {
    return this.newSession(this.cookies);
  }

  rotatable(): boolean {
    return this.cookies !== undefined && this.state !== 'expired';
  }

  async install(set: CookieSet): Promise<void> {
    await saveCookieFile(this.cookiePath, set);
    this.useCookies(set);
    await this.shared.publish(this.name, set);
  }

  async adopt(set: CookieSet): Promise<void> {
    this.useCookies(set);
    this.dropSession();
    await saveCookieFile(this.cookiePath, set);
  }

  rest(state: 'cooling' | 'blocked', until: number): void {
    this.until = until;
    this.setState(state, 'seen by another replica');
  }

  /** Change state, telling the provider (alerts) when it really changes. */
  private setState(next: AccountState, reason: string): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    this.events?.stateChanged?.(this, previous, next, reason);
  }

  /** Status for operators: states and times, cookie values masked. */
  status(autoRefresh: boolean): Record<string, unknown> {
    this.usable();
    return {
      name: this.name,
      state: this.displayState,
      until: this.until ? new Date(this.until).toISOString() : null,
      has_psid: Boolean(this.cookies?.cookies[PSID]),
      has_psidts: Boolean(this.cookies?.cookies[PSIDTS]),
      psid: mask(this.cookies?.cookies[PSID]),
      psidts: mask(this.cookies?.cookies[PSIDTS]),
      updated_at: this.cookies?.updatedAt ?? null,
      auto_refresh: autoRefresh,
      last_rotation: this.rotation.last ?? null,
      next_rotation: this.rotation.nextAt ? new Date(this.rotation.nextAt).toISOString() : null,
      last_error: this.lastError ?? null,
      account_status: this.session?.accountStatus ?? null,
      signed_in: this.session ? this.session.accountStatus === 1000 : null,
      build_label: this.session?.bl ?? null,
      page_loaded_at: this.session?.pageLoadedAt ? new Date(this.session.pageLoadedAt).toISOString() : null,
      last_served_model: this.lastServed?.name ?? this.lastServed?.id ?? null,
      device_bound: this.deviceBound,
      hint: this.hint(),
    };
  }

  async close(): Promise<void> {
    this.rotation.stop();
    this.schedulePageRefresh(0);
    this.dropSession();
    this.secrets.set(`gemini:${this.name}`, []);
  }

  private useCookies(set: CookieSet): void {
    // A guest session must not carry on once there are cookies.
    if (this.session?.guest) this.dropSession();
    this.cookies = set;
    this.secrets.set(`gemini:${this.name}`, Object.values(set.cookies));
    if (this.state === 'no_cookies' || this.state === 'expired') {
      this.until = undefined;
      this.setState('ok', 'new cookies');
    }
  }

  private newSession(set: CookieSet | undefined): GeminiSession {
    return new GeminiSession({
      endpoints: this.settings.endpoints,
      cookies: set?.cookies ?? {},
      guest: set === undefined,
      proxy: this.settings.proxy,
      language: this.settings.language,
      connectTimeoutMs: this.settings.connectTimeoutMs,
      cachedAt: this.cachedAt,
      authUser: this.settings.authUser,
    });
  }

  private dropSession(): void {
    const old = this.session;
    this.session = undefined;
    void old?.close();
  }
}

// One Gemini account: its cookies (file), its session (initialized once, re-initialized after a
// failure), its health (ok / cooling until / blocked until / expired) and its cookie rotation.
// Cookie values are registered with the secret registry so no log line can carry them.

import { metrics } from '../../metrics.js';
import type { SecretRegistry } from '../../secrets.js';
import { mask } from '../../secrets.js';
import type { ProviderLog } from '../../core/provider.js';
import { loadCookieFile, parseCookieInput, PSID, PSIDTS, saveCookieFile, type CookieSet } from './cookie-file.js';
import { GeminiError, type AccountEffect } from './errors.js';
import { GeminiSession, type Endpoints } from './session.js';
import { SOLO, type AccountCoordinator } from '../../state/account-coordinator.js';

export type AccountState = 'ok' | 'cooling' | 'blocked' | 'expired' | 'no_cookies';

export interface AccountSettings {
  endpoints: Endpoints;
  language: string;
  connectTimeoutMs: number;
  proxy?: string | undefined;
  cooldownMs: { usageLimit: number; blocked: number };
}

export interface RotationRecord {
  at: string;
  result: 'rotated' | 'no_new_psidts' | 'error';
  error?: string;
}

export class Account {
  private cookies: CookieSet | undefined;
  private session: GeminiSession | undefined;
  private starting: Promise<GeminiSession | undefined> | undefined;
  private cachedAt: string | undefined;
  state: AccountState = 'no_cookies';
  until: number | undefined;
  lastError: string | undefined;
  lastRotation: RotationRecord | undefined;
  nextRotationAt: number | undefined;
  private rotationTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly cookiePath: string,
    private settings: AccountSettings,
    private readonly secrets: SecretRegistry,
    private readonly log: ProviderLog,
    private readonly shared: AccountCoordinator = SOLO,
  ) {}

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
    const transportChanged = JSON.stringify(settings.endpoints) !== JSON.stringify(this.settings.endpoints) || settings.proxy !== this.settings.proxy;
    this.settings = settings;
    if (transportChanged) this.dropSession();
  }

  /** Usable now: has cookies and is not resting. A rest that has passed ends here. */
  usable(now = Date.now()): boolean {
    if (this.state === 'cooling' || this.state === 'blocked') {
      if (this.until !== undefined && now >= this.until) {
        this.state = 'ok';
        this.until = undefined;
      }
    }
    return this.state === 'ok';
  }

  /** The initialized session (single flight; a failed init is forgotten so the next call retries). */
  async ready(signal?: AbortSignal): Promise<GeminiSession> {
    await this.loading;
    for (;;) {
      if (this.session) return this.session;
      if (!this.cookies) throw new GeminiError('upstream_unavailable', `Gemini account ${this.name} has no cookies`, 'none', { code: 'no_cookies' });
      this.starting ??= this.start(this.cookies, signal).finally(() => {
        this.starting = undefined;
      });
      const session = await this.starting;
      if (session) return session;
    }
  }

  /** A session on `set`; undefined when the cookies were replaced while it started (start again). */
  private async start(set: CookieSet, signal?: AbortSignal): Promise<GeminiSession | undefined> {
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
  }

  /** Record the effect of a failure on this account's health. */
  mark(effect: AccountEffect, error: Error): void {
    this.lastError = error.message;
    if (effect === 'none') return;
    this.dropSession();
    if (effect === 'expired') {
      this.state = 'expired';
      this.until = undefined;
    } else {
      this.state = effect;
      this.until = Date.now() + (effect === 'cooling' ? this.settings.cooldownMs.usageLimit : this.settings.cooldownMs.blocked);
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

  /** Rotate __Secure-1PSIDTS and persist it; a rotation without a new value is reported, not hidden. */
  async rotate(): Promise<RotationRecord> {
    const record = await this.rotateOnce();
    metrics.rotations.inc({ result: record.result });
    return record;
  }

  private async rotateOnce(): Promise<RotationRecord> {
    const at = new Date().toISOString();
    try {
      const session = await this.ready();
      const fresh = await session.rotate();
      if (!fresh) {
        this.lastRotation = { at, result: 'no_new_psidts' };
        this.log.warn({ account: this.name }, 'gemini cookie rotation returned no new __Secure-1PSIDTS');
        return this.lastRotation;
      }
      const set: CookieSet = { cookies: { ...this.cookies!.cookies, [PSIDTS]: fresh }, updatedAt: at };
      await saveCookieFile(this.cookiePath, set);
      this.useCookies(set);
      await this.shared.publish(this.name, set);
      this.lastRotation = { at, result: 'rotated' };
      this.log.info({ account: this.name }, 'gemini cookie rotated');
    } catch (error) {
      const failure = error instanceof GeminiError ? error : new GeminiError('upstream_unavailable', (error as Error).message);
      if (failure.effect === 'expired') this.mark('expired', failure);
      this.lastRotation = { at, result: 'error', error: failure.message };
      this.log.warn({ account: this.name, err: failure.message }, 'gemini cookie rotation failed');
    }
    return this.lastRotation;
  }

  /** A timer tick: of all replicas only the one that claims the account this interval rotates. */
  async scheduledRotation(intervalMs: number): Promise<RotationRecord | undefined> {
    if (!(await this.shared.claim(this.name, Math.max(1000, intervalMs - 5000)))) return undefined;
    return this.rotate();
  }

  /** What other replicas learned about this account (a newer cookie, a cool-down); a no-op alone. */
  async syncShared(): Promise<void> {
    if (this.shared === SOLO) return;
    await this.adoptCookies();
    await this.adoptRest();
  }

  /** A newer cookie another replica rotated or was given replaces ours, file included. */
  private async adoptCookies(): Promise<void> {
    const current = this.cookies;
    const shared = await this.shared.latest(this.name);
    if (!shared || this.cookies !== current) return;
    if (current && (shared.cookies[PSIDTS] === current.cookies[PSIDTS] && shared.cookies[PSID] === current.cookies[PSID])) return;
    if (current && (shared.updatedAt ?? '') <= (current.updatedAt ?? '')) return;
    this.useCookies(shared);
    this.dropSession();
    this.log.info({ account: this.name }, 'gemini cookie picked up from another replica');
    await saveCookieFile(this.cookiePath, shared);
  }

  /** A cool-down another replica saw (usage limit, block) applies here too. */
  private async adoptRest(): Promise<void> {
    if (!this.usable()) return;
    const rest = await this.shared.resting(this.name);
    if (!rest || rest.until <= Date.now() || !this.usable()) return;
    this.state = rest.state;
    this.until = rest.until;
    this.log.info({ account: this.name, state: rest.state, until: new Date(rest.until).toISOString() }, 'gemini account resting (seen by another replica)');
  }

  /** Rotate every `intervalMs` while enabled; errors are recorded and retried next time. */
  scheduleRotation(enabled: boolean, intervalMs: number): void {
    if (this.rotationTimer) clearInterval(this.rotationTimer);
    this.rotationTimer = undefined;
    this.nextRotationAt = undefined;
    if (!enabled) return;
    this.nextRotationAt = Date.now() + intervalMs;
    this.rotationTimer = setInterval(() => {
      this.nextRotationAt = Date.now() + intervalMs;
      if (this.cookies && this.state !== 'expired') void this.scheduledRotation(intervalMs);
    }, intervalMs);
    this.rotationTimer.unref();
  }

  /** Status for operators: states and times, cookie values masked. */
  status(autoRefresh: boolean): Record<string, unknown> {
    this.usable();
    return {
      name: this.name,
      state: this.state,
      until: this.until ? new Date(this.until).toISOString() : null,
      has_psid: Boolean(this.cookies?.cookies[PSID]),
      has_psidts: Boolean(this.cookies?.cookies[PSIDTS]),
      psid: mask(this.cookies?.cookies[PSID]),
      psidts: mask(this.cookies?.cookies[PSIDTS]),
      updated_at: this.cookies?.updatedAt ?? null,
      auto_refresh: autoRefresh,
      last_rotation: this.lastRotation ?? null,
      next_rotation: this.nextRotationAt ? new Date(this.nextRotationAt).toISOString() : null,
      last_error: this.lastError ?? null,
      account_status: this.session?.accountStatus ?? null,
    };
  }

  /** The live session's cookies (with rotations applied), for fetching images. */
  currentSession(): GeminiSession | undefined {
    return this.session;
  }

  async close(): Promise<void> {
    if (this.rotationTimer) clearInterval(this.rotationTimer);
    this.rotationTimer = undefined;
    this.dropSession();
    this.secrets.set(`gemini:${this.name}`, []);
  }

  private useCookies(set: CookieSet): void {
    this.cookies = set;
    this.secrets.set(`gemini:${this.name}`, Object.values(set.cookies));
    if (this.state === 'no_cookies' || this.state === 'expired') {
      this.state = 'ok';
      this.until = undefined;
    }
  }

  private newSession(set: CookieSet): GeminiSession {
    return new GeminiSession({
      endpoints: this.settings.endpoints,
      cookies: set.cookies,
      proxy: this.settings.proxy,
      language: this.settings.language,
      connectTimeoutMs: this.settings.connectTimeoutMs,
      cachedAt: this.cachedAt,
    });
  }

  private dropSession(): void {
    const old = this.session;
    this.session = undefined;
    void old?.close();
  }
}

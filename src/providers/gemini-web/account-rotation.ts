// Cookie rotation of one account: __Secure-1PSIDTS renewed through RotateCookies (one replica per
// interval when replicas share Redis), persisted and published. Scheduled as the newest peers do:
// the first rotation shortly after start, then at the interval Google asks for (`identity.hfcr`)
// or `refresh_interval`, never under a minute, with jitter. A rotation that gave no new value is
// reported (how a device-bound Chrome session fails), not hidden; one that says the cookies
// expired marks the account.

import { metrics } from '../../metrics.js';
import type { ProviderLog } from '../../core/provider.js';
import type { AccountCoordinator } from '../../state/account-coordinator.js';
import { PSIDTS, type CookieSet } from './cookie-file.js';
import { GeminiError, type AccountEffect } from './errors.js';
import type { GeminiSession } from './session.js';

/** What an operator reads about a session Chrome bound to the device (DBSC). */
export const DEVICE_BOUND = 'bound to the browser: re-export from Firefox or use the cookie-sync extension (docs/gemini.md, "Cookies that last")';

export interface RotationRecord {
  at: string;
  result: 'rotated' | 'no_new_psidts' | 'error';
  error?: string;
}

/** First rotation after start, and the jitter around every rotation time. */
const FIRST_ROTATION_MS = 15_000;
const JITTER_MS = 15_000;
const MIN_INTERVAL_MS = 60_000;

/** What rotation needs of its account. */
export interface RotatingAccount {
  readonly name: string;
  /** No new PSIDTS from a rotation: the session is bound to the browser (DBSC). */
  deviceBound: boolean;
  cookieSet(): CookieSet | undefined;
  ready(): Promise<GeminiSession>;
  /** A session on the current cookies that was not started (for a rotation when starting fails). */
  bareSession(): GeminiSession;
  /** Save, use and publish new cookies. */
  install(set: CookieSet): Promise<void>;
  mark(effect: AccountEffect, error: Error): void;
  /** False while the account cannot be rotated (no cookies, expired). */
  rotatable(): boolean;
}

export class CookieRotation {
  last: RotationRecord | undefined;
  nextAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 600_000;
  /** Rotation is on (`gemini.auto_refresh`). */
  enabled = false;
  /** The interval Google asked for in its last RotateCookies answer. */
  private askedMs: number | undefined;

  constructor(
    private readonly account: RotatingAccount,
    private readonly shared: AccountCoordinator,
    private readonly log: ProviderLog,
  ) {}

  /** Rotate __Secure-1PSIDTS and persist it. */
  async rotate(): Promise<RotationRecord> {
    const record = await this.rotateOnce();
    metrics.rotations.inc({ result: record.result });
    // Whoever asked (timer, admin, expiry), the next one is an interval from now.
    if (this.enabled) this.plan(Math.max(MIN_INTERVAL_MS, this.askedMs ?? this.intervalMs));
    return record;
  }

  /** A timer tick: of all replicas only the one that claims the account this interval rotates. */
  async scheduled(intervalMs: number): Promise<RotationRecord | undefined> {
    if (!(await this.shared.claim(this.account.name, Math.max(1000, intervalMs - 5000)))) return undefined;
    return this.rotate();
  }

  /** Rotate shortly after start, then every interval while enabled; errors are recorded and retried next time. */
  schedule(enabled: boolean, intervalMs: number): void {
    const first = !this.enabled;
    this.intervalMs = Math.max(MIN_INTERVAL_MS, intervalMs);
    this.enabled = enabled;
    if (!enabled) return this.stop();
    // A reload keeps the time already planned unless the interval got shorter than what is left.
    if (first || this.nextAt === undefined || this.nextAt - Date.now() > this.intervalMs + JITTER_MS) this.plan(first ? FIRST_ROTATION_MS : this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = undefined;
    this.enabled = false;
  }

  private plan(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(1000, delayMs + Math.round((Math.random() * 2 - 1) * (delayMs === FIRST_ROTATION_MS ? 5000 : JITTER_MS)));
    this.nextAt = Date.now() + wait;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.account.rotatable()) return this.plan(this.intervalMs);
      void this.scheduled(this.intervalMs).then((record) => {
        // Another replica rotated this interval: plan the next one ourselves.
        if (!record && this.enabled) this.plan(this.intervalMs);
      });
    }, wait);
    this.timer.unref();
  }

  private async rotateOnce(): Promise<RotationRecord> {
    const at = new Date().toISOString();
    const name = this.account.name;
    let bare: GeminiSession | undefined;
    try {
      // Rotation needs only the two cookies: when a session cannot start because PSIDTS already
      // died (the page shows a signed-out visitor), rotate on a bare session, as Google allows.
      const session = await this.account.ready().catch((error: unknown) => {
        if (!(error instanceof GeminiError && error.effect === 'expired')) throw error;
        return (bare = this.account.bareSession());
      });
      const fresh = await session.rotate();
      if (session.rotationIntervalS) this.askedMs = session.rotationIntervalS * 1000;
      if (!fresh) {
        this.last = { at, result: 'no_new_psidts' };
        this.account.deviceBound = true;
        this.log.warn({ account: name, hint: DEVICE_BOUND }, 'gemini cookie rotation returned no new __Secure-1PSIDTS: the session is bound to the browser');
        return this.last;
      }
      this.account.deviceBound = false;
      // Every cookie the answers set (SIDCC family included) is kept and persisted, not only PSIDTS.
      await this.account.install({ cookies: { ...this.account.cookieSet()!.cookies, ...Object.fromEntries(session.jar), [PSIDTS]: fresh }, updatedAt: at });
      this.last = { at, result: 'rotated' };
      this.log.info({ account: name }, 'gemini cookie rotated');
      // A rotation is when expired cookies show: re-read the account and its models (1016 = signed out).
      if (!bare) {
        await session.loadStatus().catch((error: unknown) => {
          if (error instanceof GeminiError && error.effect !== 'none') this.account.mark(error.effect, error);
        });
      }
    } catch (error) {
      const failure = error instanceof GeminiError ? error : new GeminiError('upstream_unavailable', (error as Error).message);
      if (failure.effect !== 'none') this.account.mark(failure.effect, failure);
      this.last = { at, result: 'error', error: failure.message };
      this.log.warn({ account: name, err: failure.message }, 'gemini cookie rotation failed');
    } finally {
      await (bare as GeminiSession | undefined)?.close();
    }
    return this.last;
  }
}

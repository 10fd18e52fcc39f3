// Cookie rotation of one account: __Secure-1PSIDTS renewed through RotateCookies on a timer (one
// replica per interval when replicas share Redis), persisted and published; a rotation that gave
// no new value is reported, not hidden; one that says the cookies expired marks the account.

import { metrics } from '../../metrics.js';
import type { ProviderLog } from '../../core/provider.js';
import type { AccountCoordinator } from '../../state/account-coordinator.js';
import { PSIDTS, type CookieSet } from './cookie-file.js';
import { GeminiError, type AccountEffect } from './errors.js';
import type { GeminiSession } from './session.js';

export interface RotationRecord {
  at: string;
  result: 'rotated' | 'no_new_psidts' | 'error';
  error?: string;
}

/** What rotation needs of its account. */
export interface RotatingAccount {
  readonly name: string;
  cookieSet(): CookieSet | undefined;
  ready(): Promise<GeminiSession>;
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

  constructor(
    private readonly account: RotatingAccount,
    private readonly shared: AccountCoordinator,
    private readonly log: ProviderLog,
  ) {}

  /** Rotate __Secure-1PSIDTS and persist it. */
  async rotate(): Promise<RotationRecord> {
    const record = await this.rotateOnce();
    metrics.rotations.inc({ result: record.result });
    return record;
  }

  /** A timer tick: of all replicas only the one that claims the account this interval rotates. */
  async scheduled(intervalMs: number): Promise<RotationRecord | undefined> {
    if (!(await this.shared.claim(this.account.name, Math.max(1000, intervalMs - 5000)))) return undefined;
    return this.rotate();
  }

  /** Rotate every `intervalMs` while enabled; errors are recorded and retried next time. */
  schedule(enabled: boolean, intervalMs: number): void {
    this.stop();
    if (!enabled) return;
    this.nextAt = Date.now() + intervalMs;
    this.timer = setInterval(() => {
      this.nextAt = Date.now() + intervalMs;
      if (this.account.rotatable()) void this.scheduled(intervalMs);
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.nextAt = undefined;
  }

  private async rotateOnce(): Promise<RotationRecord> {
    const at = new Date().toISOString();
    const name = this.account.name;
    try {
      const session = await this.account.ready();
      const fresh = await session.rotate();
      if (!fresh) {
        this.last = { at, result: 'no_new_psidts' };
        this.log.warn({ account: name }, 'gemini cookie rotation returned no new __Secure-1PSIDTS');
        return this.last;
      }
      // Every cookie the answers set (SIDCC family included) is kept and persisted, not only PSIDTS.
      await this.account.install({ cookies: { ...this.account.cookieSet()!.cookies, ...Object.fromEntries(session.jar), [PSIDTS]: fresh }, updatedAt: at });
      this.last = { at, result: 'rotated' };
      this.log.info({ account: name }, 'gemini cookie rotated');
      // A rotation is when expired cookies show: re-read the account and its models (1016 = signed out).
      await session.loadStatus().catch((error: unknown) => {
        if (error instanceof GeminiError && error.effect !== 'none') this.account.mark(error.effect, error);
      });
    } catch (error) {
      const failure = error instanceof GeminiError ? error : new GeminiError('upstream_unavailable', (error as Error).message);
      if (failure.effect !== 'none') this.account.mark(failure.effect, failure);
      this.last = { at, result: 'error', error: failure.message };
      this.log.warn({ account: name, err: failure.message }, 'gemini cookie rotation failed');
    }
    return this.last;
  }
}

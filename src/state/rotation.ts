// Cookie rotation across replicas: one replica rotates an account's cookie per interval (a lock in
// Redis), publishes the result, and the others pick it up before their next Gemini call. Alone (no
// Redis) every claim succeeds and there is nothing to pick up.

import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';

export interface SharedCookies {
  cookies: Record<string, string>;
  updatedAt?: string;
}

export interface RotationCoordinator {
  /** True when this replica may rotate `account` now; holds the claim for `holdMs`. */
  claim(account: string, holdMs: number): Promise<boolean>;
  /** Tell the other replicas about a rotated cookie. */
  publish(account: string, cookies: SharedCookies): Promise<void>;
  /** The last cookie any replica published for `account`. */
  latest(account: string): Promise<SharedCookies | undefined>;
}

export const SOLO: RotationCoordinator = {
  claim: async () => true,
  publish: async () => undefined,
  latest: async () => undefined,
};

export class RedisRotationCoordinator implements RotationCoordinator {
  private readonly replica = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onFailure: (operation: string, error: unknown) => void,
  ) {}

  async claim(account: string, holdMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(`${this.prefix}rotation-lock:${account}`, this.replica, 'PX', holdMs, 'NX')) === 'OK';
    } catch (error) {
      // Without Redis nobody can coordinate: rotating alone keeps this replica's cookie alive.
      this.onFailure('claim', error);
      return true;
    }
  }

  async publish(account: string, cookies: SharedCookies): Promise<void> {
    try {
      await this.redis.set(`${this.prefix}cookies:${account}`, JSON.stringify(cookies));
    } catch (error) {
      this.onFailure('publish', error);
    }
  }

  async latest(account: string): Promise<SharedCookies | undefined> {
    try {
      const text = await this.redis.get(`${this.prefix}cookies:${account}`);
      return text === null ? undefined : (JSON.parse(text) as SharedCookies);
    } catch (error) {
      this.onFailure('latest', error);
      return undefined;
    }
  }
}

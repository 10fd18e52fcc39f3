// Gemini accounts across replicas. Cookie rotation: one replica rotates an account's cookie per
// interval (a lock in Redis), publishes the result, and the others pick it up before their next
// Gemini call. Cool-downs: an account one replica saw hit a usage limit (or a block) rests on all of
// them. Alone (no Redis) every claim succeeds and there is nothing to pick up.

import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';

export interface SharedCookies {
  cookies: Record<string, string>;
  updatedAt?: string;
}

export interface AccountCoordinator {
  /** True when this replica may rotate `account` now; holds the claim for `holdMs`. */
  claim(account: string, holdMs: number): Promise<boolean>;
  /** Tell the other replicas about a rotated cookie. */
  publish(account: string, cookies: SharedCookies): Promise<void>;
  /** The last cookie any replica published for `account`. */
  latest(account: string): Promise<SharedCookies | undefined>;
  /** Tell the other replicas `account` rests until `until` (ms since the epoch). */
  rest(account: string, state: 'cooling' | 'blocked', until: number): Promise<void>;
  /** Whether some replica put `account` to rest, and until when. */
  resting(account: string): Promise<{ state: 'cooling' | 'blocked'; until: number } | undefined>;
}

export const SOLO: AccountCoordinator = {
  claim: async () => true,
  publish: async () => undefined,
  latest: async () => undefined,
  rest: async () => undefined,
  resting: async () => undefined,
};

export class RedisAccountCoordinator implements AccountCoordinator {
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

  async rest(account: string, state: 'cooling' | 'blocked', until: number): Promise<void> {
    try {
      await this.redis.set(`${this.prefix}resting:${account}`, JSON.stringify({ state, until }), 'PX', Math.max(1, until - Date.now()));
    } catch (error) {
      this.onFailure('rest', error);
    }
  }

  async resting(account: string): Promise<{ state: 'cooling' | 'blocked'; until: number } | undefined> {
    try {
      const text = await this.redis.get(`${this.prefix}resting:${account}`);
      return text === null ? undefined : (JSON.parse(text) as { state: 'cooling' | 'blocked'; until: number });
    } catch (error) {
      this.onFailure('resting', error);
      return undefined;
    }
  }
}

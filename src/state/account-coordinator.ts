// Gemini accounts across replicas. Cookie rotation: one replica rotates an account's cookie per
// interval (a lock in Redis), publishes the result, and the others pick it up before their next
// Gemini call. Cool-downs: an account one replica saw hit a usage limit (or a block) rests on all of
// them. Alone (no Redis) every claim succeeds and there is nothing to pick up.

import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisTtlStore, type StoreFailure } from './ttl-store.js';

export interface SharedCookies {
  cookies: Record<string, string>;
  updatedAt?: string;
}

/** An account at rest (after a usage limit or a block) until `until`, ms since the epoch. */
export type Rest = { state: 'cooling' | 'blocked'; until: number };

export interface AccountCoordinator {
  /** True when this replica may rotate `account` now; holds the claim for `holdMs`. */
  claim(account: string, holdMs: number): Promise<boolean>;
  /** Tell the other replicas about a rotated cookie. */
  publish(account: string, cookies: SharedCookies): Promise<void>;
  /** The last cookie any replica published for `account`. */
  latest(account: string): Promise<SharedCookies | undefined>;
  /** Tell the other replicas `account` rests until `until` (ms since the epoch). */
  rest(account: string, state: Rest['state'], until: number): Promise<void>;
  /** Whether some replica put `account` to rest, and until when. */
  resting(account: string): Promise<Rest | undefined>;
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
  private readonly cookies: RedisTtlStore<SharedCookies>;
  private readonly rests: RedisTtlStore<Rest>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onFailure: StoreFailure,
  ) {
    // A published cookie outlives any rotation interval; a rest expires with its cool-down.
    this.cookies = new RedisTtlStore(redis, `${prefix}cookies:`, 30 * 24 * 3600 * 1000, onFailure);
    this.rests = new RedisTtlStore(redis, `${prefix}resting:`, 60_000, onFailure);
  }

  async claim(account: string, holdMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(`${this.prefix}rotation-lock:${account}`, this.replica, 'PX', holdMs, 'NX')) === 'OK';
    } catch (error) {
      // Without Redis nobody can coordinate: rotating alone keeps this replica's cookie alive.
      this.onFailure('set', error);
      return true;
    }
  }

  publish(account: string, cookies: SharedCookies): Promise<void> {
    return this.cookies.set(account, cookies);
  }

  latest(account: string): Promise<SharedCookies | undefined> {
    return this.cookies.get(account);
  }

  rest(account: string, state: Rest['state'], until: number): Promise<void> {
    return this.rests.set(account, { state, until }, until - Date.now());
  }

  resting(account: string): Promise<Rest | undefined> {
    return this.rests.get(account);
  }
}

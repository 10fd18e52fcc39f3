// The TTL stores behind conversation reuse and `previous_response_id`: one interface, two backends.
// In memory (default) is a bounded TtlMap; Redis shares the entries between replicas, bounded by
// the same TTL (and the server's maxmemory policy instead of a count).

import type { Redis } from 'ioredis';
import { TtlMap } from '../core/ttl-map.js';

export interface TtlStore<V> {
  get(key: string): Promise<V | undefined>;
  set(key: string, value: V): Promise<void>;
  /** New bounds from a reloaded config. */
  configure(maxEntries: number, ttlMs: number): void;
}

export class MemoryTtlStore<V> implements TtlStore<V> {
  private readonly map: TtlMap<V>;

  constructor(maxEntries: number, ttlMs: number) {
    this.map = new TtlMap<V>(maxEntries, ttlMs);
  }

  async get(key: string): Promise<V | undefined> {
    return this.map.get(key);
  }

  async set(key: string, value: V): Promise<void> {
    this.map.set(key, value);
  }

  configure(maxEntries: number, ttlMs: number): void {
    this.map.configure(maxEntries, ttlMs);
  }
}

/** What a store does when Redis fails: the request goes on (a miss, an unsaved entry), the log says why. */
export type StoreFailure = (operation: 'get' | 'set', error: unknown) => void;

export class RedisTtlStore<V> implements TtlStore<V> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private ttlMs: number,
    private readonly onFailure: StoreFailure,
  ) {}

  async get(key: string): Promise<V | undefined> {
    try {
      const text = await this.redis.get(this.prefix + key);
      return text === null ? undefined : (JSON.parse(text) as V);
    } catch (error) {
      this.onFailure('get', error);
      return undefined;
    }
  }

  /** `ttlMs` overrides the store's TTL for this entry (a cool-down that ends at a given time). */
  async set(key: string, value: V, ttlMs = this.ttlMs): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, JSON.stringify(value), 'PX', Math.max(1, ttlMs));
    } catch (error) {
      this.onFailure('set', error);
    }
  }

  configure(_maxEntries: number, ttlMs: number): void {
    this.ttlMs = ttlMs;
  }
}

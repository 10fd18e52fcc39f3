// The state replicas share: made once at start-up from `state.*` (a restart-only section) and
// handed to the Responses route and the Gemini provider. Without `state.redis_url` everything stays
// in this process, as on a single Pi.

import type { Redis } from 'ioredis';
import { RedisAccountCoordinator, SOLO, type AccountCoordinator } from './account-coordinator.js';
import { MemoryTtlStore, RedisTtlStore, type StoreFailure, type TtlStore } from './ttl-store.js';
import { MemoryHashStore, RedisHashStore, type HashStore } from './hash-store.js';

export interface SharedStateLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export class SharedState {
  private coordinator: AccountCoordinator | undefined;

  private constructor(
    readonly backend: 'memory' | 'redis',
    private readonly redis: Redis | undefined,
    private readonly prefix: string,
    private readonly log: SharedStateLog | undefined,
  ) {}

  static memory(): SharedState {
    return new SharedState('memory', undefined, '', undefined);
  }

  /** Connects to Redis (ioredis is loaded only then); waits up to `readyMs` for the first connection. */
  static async redis(url: string, prefix: string, log: SharedStateLog, readyMs = 5000): Promise<SharedState> {
    const ioredis = await import('ioredis');
    // Node exposes ioredis's CommonJS exports by name; in the bundle its chunk has only `default`
    // (module.exports), which carries the same class.
    const Redis = ioredis.Redis ?? (ioredis.default as unknown as { Redis: typeof ioredis.Redis }).Redis;
    // A failing Redis must not hold requests: commands time out fast and are not queued while offline.
    const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', (error: Error) => log.warn({ err: error.message }, 'redis error'));
    await Promise.race([redis.connect(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${readyMs} ms`)), readyMs))]).catch((error: Error) =>
      log.warn({ err: error.message }, 'redis not reachable yet; shared state misses until it is'),
    );
    log.info({ prefix }, 'shared state in redis');
    return new SharedState('redis', redis, prefix, log);
  }

  /** A TTL store under `namespace` (e.g. "responses"). */
  store<V>(namespace: string, maxEntries: number, ttlMs: number): TtlStore<V> {
    if (!this.redis) return new MemoryTtlStore<V>(maxEntries, ttlMs);
    return new RedisTtlStore<V>(this.redis, `${this.prefix}${namespace}:`, ttlMs, this.failure(namespace));
  }

  /** Hashes of counters under `namespace` (per-minute usage): HINCRBY in Redis, so replicas add up. */
  hashes(namespace: string, maxKeys: number, ttlMs: number): HashStore {
    if (!this.redis) return new MemoryHashStore(maxKeys, ttlMs);
    return new RedisHashStore(this.redis, `${this.prefix}${namespace}:`, ttlMs, this.failure(namespace));
  }

  /** Cookie rotation and cool-downs shared between replicas (Redis), or this process alone. */
  get accounts(): AccountCoordinator {
    if (!this.redis) return SOLO;
    this.coordinator ??= new RedisAccountCoordinator(this.redis, this.prefix, this.failure('accounts'));
    return this.coordinator;
  }

  /** Redis failures degrade to misses; the log says which part of the state went without. */
  private failure(namespace: string): StoreFailure {
    return (operation, error) => this.log?.warn({ namespace, operation, err: error instanceof Error ? error.message : String(error) }, 'shared state unavailable');
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}

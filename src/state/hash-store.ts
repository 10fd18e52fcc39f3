// Hashes of counters and small values under one key each, with a TTL: what per-minute usage
// aggregates are kept in. In memory, a bounded map of plain maps; with Redis, one hash per key
// (HINCRBY adds up across replicas, so two gateways sharing a Redis show one picture).

import type { Redis } from 'ioredis';
import type { StoreFailure } from './ttl-store.js';

export interface HashStore {
  /** Add to integer counters of the hash at `key` (made with the store's TTL when new). */
  increment(key: string, fields: ReadonlyMap<string, number>): Promise<void>;
  /** Set string fields of the hash at `key` (last writer wins). */
  assign(key: string, fields: Readonly<Record<string, string>>): Promise<void>;
  /** Every field of each key, in the order asked; a missing key reads as {}. */
  read(keys: readonly string[]): Promise<Array<Record<string, string>>>;
}

export class MemoryHashStore implements HashStore {
  // Counters stay numbers (no string per value); read() turns them into strings as Redis would.
  private readonly hashes = new Map<string, { expires: number; fields: Map<string, string | number> }>();

  constructor(
    private readonly maxKeys: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async increment(key: string, fields: ReadonlyMap<string, number>): Promise<void> {
    const hash = this.hash(key);
    for (const [field, by] of fields) hash.set(field, Number(hash.get(field) ?? 0) + by);
  }

  async assign(key: string, fields: Readonly<Record<string, string>>): Promise<void> {
    const hash = this.hash(key);
    for (const [field, value] of Object.entries(fields)) hash.set(field, value);
  }

  async read(keys: readonly string[]): Promise<Array<Record<string, string>>> {
    const now = this.now();
    return keys.map((key) => {
      const entry = this.hashes.get(key);
      if (!entry || entry.expires <= now) return {};
      const out: Record<string, string> = {};
      for (const [field, value] of entry.fields) out[field] = String(value);
      return out;
    });
  }

  get size(): number {
    return this.hashes.size;
  }

  private hash(key: string): Map<string, string | number> {
    const now = this.now();
    let entry = this.hashes.get(key);
    if (entry && entry.expires <= now) {
      this.hashes.delete(key);
      entry = undefined;
    }
    if (!entry) {
      entry = { expires: now + this.ttlMs, fields: new Map() };
      this.hashes.set(key, entry);
      // Oldest first out (keys are made in time order): the map never holds more than maxKeys.
      while (this.hashes.size > this.maxKeys) this.hashes.delete(this.hashes.keys().next().value!);
    }
    return entry.fields;
  }
}

export class RedisHashStore implements HashStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly onFailure: StoreFailure,
  ) {}

  async increment(key: string, fields: ReadonlyMap<string, number>): Promise<void> {
    if (fields.size === 0) return;
    const batch = this.redis.pipeline();
    for (const [field, by] of fields) batch.hincrby(this.prefix + key, field, by);
    batch.pexpire(this.prefix + key, this.ttlMs);
    await this.run('set', batch);
  }

  async assign(key: string, fields: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    await this.run('set', this.redis.pipeline().hset(this.prefix + key, fields).pexpire(this.prefix + key, this.ttlMs));
  }

  async read(keys: readonly string[]): Promise<Array<Record<string, string>>> {
    if (keys.length === 0) return [];
    const batch = this.redis.pipeline();
    for (const key of keys) batch.hgetall(this.prefix + key);
    const results = await this.run('get', batch);
    return keys.map((_, i) => {
      const [error, value] = results?.[i] ?? [null, null];
      return error || !value ? {} : (value as Record<string, string>);
    });
  }

  private async run(operation: 'get' | 'set', batch: ReturnType<Redis['pipeline']>): Promise<Array<[Error | null, unknown]> | undefined> {
    try {
      return (await batch.exec()) ?? undefined;
    } catch (error) {
      this.onFailure(operation, error);
      return undefined;
    }
  }
}

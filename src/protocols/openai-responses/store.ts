// Recent responses for `previous_response_id`: the whole conversation (input messages + the
// answer) under the response id. Bounded by count and age; in memory (one replica). Messages are
// shared by reference between a response and its follow-ups, so chains cost little extra.

import type { Message } from '../../core/types.js';

export interface ResponseStoreOptions {
  maxEntries?: number;
  ttlMs?: number;
}

export class ResponseStore {
  private readonly entries = new Map<string, { messages: Message[]; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(options: ResponseStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 256;
    this.ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  }

  put(id: string, messages: Message[]): void {
    this.entries.delete(id);
    this.entries.set(id, { messages, expiresAt: Date.now() + this.ttlMs });
    // Map iteration order is insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get(id: string): Message[] | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.messages;
  }

  get size(): number {
    return this.entries.size;
  }
}

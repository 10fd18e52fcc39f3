// Recent responses for `previous_response_id`: the whole conversation (input messages + the
// answer) under the response id. Bounded by count and age; in memory (one replica). Messages are
// shared by reference between a response and its follow-ups, so chains cost little extra.

import { TtlMap } from '../../core/ttl-map.js';
import type { Message } from '../../core/types.js';

export interface ResponseStoreOptions {
  maxEntries?: number;
  ttlMs?: number;
}

export class ResponseStore extends TtlMap<Message[]> {
  constructor(options: ResponseStoreOptions = {}) {
    super(options.maxEntries ?? 256, options.ttlMs ?? 60 * 60 * 1000);
  }

  put(id: string, messages: Message[]): void {
    this.set(id, messages);
  }
}

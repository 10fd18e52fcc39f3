// Event streams in batches: a provider that reads its upstream in network chunks hands over every
// event of a chunk at once (Provider.streamBatches), so the pipeline pays one async step per chunk
// instead of one per event. These two adapters convert between the shapes where a caller needs
// the other one.

import type { ChatEvent } from './types.js';

/** A batched stream as single events (for consumers that take one event at a time). */
export async function* eventsOf(batches: AsyncIterable<ChatEvent[]>): AsyncIterable<ChatEvent> {
  for await (const batch of batches) yield* batch;
}

/** Single events as batches of one, without a generator of its own (a `then` per event). */
export function batchesOf(events: AsyncIterable<ChatEvent>): AsyncIterable<ChatEvent[]> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<ChatEvent[]> {
      const iterator = events[Symbol.asyncIterator]();
      return {
        next: () => iterator.next().then((step): IteratorResult<ChatEvent[]> => (step.done ? { done: true, value: undefined } : { done: false, value: [step.value] })),
        return: async () => {
          await iterator.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

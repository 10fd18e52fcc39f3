// What the pipeline does to every stream before an encoder sees it (core/event-contract.ts): the
// finishes held back and exactly one released at the end. Unit tests of a stage apply it to see
// the events as a client's encoder would.
import { EventContract } from '../../src/core/event-contract.js';
import type { ChatEvent } from '../../src/core/types.js';

export function settle(events: ChatEvent[]): ChatEvent[] {
  const contract = new EventContract();
  const out = events.filter((e) => contract.see(e));
  if (out.at(-1)?.type === 'error') return out;
  return [...out, contract.finish()];
}

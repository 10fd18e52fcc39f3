// The one rule for how a stream ends. Whatever the upstream sent (no finish, two finishes, "stop"
// after tool calls), what reaches an encoder or collect() is content events, then exactly one
// finish (or one error). The pipeline holds every finish back and releases one at the end:
// the last one the upstream sent, "tool_calls" when calls were made and it said "stop" or nothing.

import type { ChatEvent, FinishReason } from './types.js';

export type FinishEvent = Extract<ChatEvent, { type: 'finish' }>;

export class EventContract {
  private toolCalls = false;
  private last: FinishEvent | undefined;

  /** Note one event; false for a finish (held back until `finish()`). */
  see(event: ChatEvent): boolean {
    if (event.type === 'finish') {
      this.last = event;
      return false;
    }
    if (event.type === 'tool-call-start') this.toolCalls = true;
    return true;
  }

  /** The stream's one finish. */
  finish(): FinishEvent {
    const last = this.last;
    const reason: FinishReason = last && !(last.reason === 'stop' && this.toolCalls) ? last.reason : this.toolCalls ? 'tool_calls' : 'stop';
    if (last && last.reason === reason) return last;
    return { type: 'finish', reason };
  }
}

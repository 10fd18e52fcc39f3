// Usage for the one `usage` event a response carries: what the upstream reported, or, when it
// reports none, a local tokenizer count (input from the request, output from the produced text).

import { countRequestTokens, countTextTokens } from '../core/tokens.js';
import type { ChatEvent, ChatRequest, Usage } from '../core/types.js';

export class UsageTracker {
  private reported: Usage | undefined;
  private readonly output: string[] = [];

  constructor(private readonly chat: ChatRequest) {}

  /** Note one event; false for usage events (the pipeline re-emits one at the end). */
  see(event: ChatEvent): boolean {
    switch (event.type) {
      case 'usage':
        this.reported = event.usage;
        return false;
      case 'text-delta':
      case 'thinking-delta':
        this.output.push(event.text);
        return true;
      case 'tool-call-delta':
        this.output.push(event.argumentsDelta);
        return true;
      case 'tool-call-start':
        this.output.push(event.name);
        return true;
      default:
        return true;
    }
  }

  async final(): Promise<Usage> {
    const reported = this.reported;
    const inputTokens = reported?.inputTokens || (await countRequestTokens(this.chat));
    const outputTokens = reported?.outputTokens || (await countTextTokens(this.output.join('')));
    return { ...reported, inputTokens, outputTokens };
  }
}

// Usage for the one `usage` event a response carries: what the upstream reported, or, when it
// reports none (Gemini web, always), an estimate (input from the request, output from the produced
// text). The estimate (core/token-estimate.ts) needs no tokenizer tables: the exact BPE is reserved
// for count_tokens, where a client asks for a figure, and lives in a worker only while asked.

import { estimateTextTokens } from '../core/token-estimate.js';
import { estimateRequestTokens } from '../core/tokens.js';
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
    const inputTokens = reported?.inputTokens || estimateRequestTokens(this.chat);
    const outputTokens = reported?.outputTokens || estimateTextTokens(this.output.join(''));
    return { ...reported, inputTokens, outputTokens };
  }
}

// A provider for tests only: plays back a script of canonical events (with optional pauses and
// failures) and records what it was asked. Never reachable from the product.
import { GatewayError } from '../../src/core/gateway-error.js';
import type { ChatEvent, ChatRequest } from '../../src/core/types.js';
import type { Provider, ProviderCallContext, ProviderRegistry } from '../../src/core/provider.js';

export type Step = ChatEvent | { wait: number } | { throw: GatewayError };

export class ScriptedProvider implements Provider {
  readonly capabilities = { nativeTools: true };
  readonly calls: Array<{ request: ChatRequest; context: ProviderCallContext }> = [];
  aborted = 0;
  /** The script for the next call; a function may pick one per request. */
  script: Step[] | ((request: ChatRequest) => Step[]) = [];

  constructor(readonly id = 'g4f') {}

  async *stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent> {
    this.calls.push({ request, context });
    const steps = typeof this.script === 'function' ? this.script(request) : this.script;
    for (const step of steps) {
      if (context.signal.aborted) {
        this.aborted++;
        return;
      }
      if ('wait' in step) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, step.wait);
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
        if (context.signal.aborted) {
          this.aborted++;
          return;
        }
        continue;
      }
      if ('throw' in step) throw step.throw;
      yield step;
    }
  }

  async listModels() {
    return [];
  }

  health() {
    return { state: 'ok' as const, usable: true };
  }
}

/** A fixed set of providers (tests hand it to buildApp instead of the config-driven registry). */
export class StaticProviderRegistry implements ProviderRegistry {
  private readonly byId: Map<string, Provider>;

  constructor(private readonly providers: readonly Provider[] = []) {
    this.byId = new Map(providers.map((p) => [p.id, p]));
  }

  list(): readonly Provider[] {
    return this.providers;
  }

  get(id: string): Provider | undefined {
    return this.byId.get(id);
  }
}

export function registryWith(...providers: Provider[]): StaticProviderRegistry {
  return new StaticProviderRegistry(providers);
}

/** Common scripts, as canonical events. */
export const scripts = {
  text: (text = 'Hi there!', usage = { inputTokens: 24, outputTokens: 12 }): Step[] => [
    { type: 'text-delta', text: text.slice(0, 5) },
    { type: 'text-delta', text: text.slice(5) },
    { type: 'usage', usage },
    { type: 'finish', reason: 'stop' },
  ],
  thinkingThenText: (): Step[] => [
    { type: 'thinking-delta', text: 'Thinking about ' },
    { type: 'thinking-delta', text: 'it.' },
    { type: 'thinking-signature', signature: 'c2lnbmF0dXJl' },
    { type: 'text-delta', text: 'The answer ' },
    { type: 'text-delta', text: 'is 42.' },
    { type: 'usage', usage: { inputTokens: 30, outputTokens: 20, reasoningTokens: 8 } },
    { type: 'finish', reason: 'stop' },
  ],
  toolCall: (name = 'get_weather', args = '{"city":"Paris","days":2}', id = 'call_abc123'): Step[] => [
    { type: 'tool-call-start', index: 0, id, name },
    { type: 'tool-call-delta', index: 0, argumentsDelta: args.slice(0, 9) },
    { type: 'tool-call-delta', index: 0, argumentsDelta: args.slice(9) },
    { type: 'tool-call-end', index: 0 },
    { type: 'usage', usage: { inputTokens: 40, outputTokens: 15 } },
    { type: 'finish', reason: 'tool_calls' },
  ],
  parallelToolCalls: (): Step[] => [
    { type: 'tool-call-start', index: 0, id: 'call_one', name: 'get_weather' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":"Paris"}' },
    { type: 'tool-call-end', index: 0 },
    { type: 'tool-call-start', index: 1, id: 'call_two', name: 'get_time' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: '{"zone":' },
    { type: 'tool-call-delta', index: 1, argumentsDelta: '"CET"}' },
    { type: 'tool-call-end', index: 1 },
    { type: 'usage', usage: { inputTokens: 50, outputTokens: 25 } },
    { type: 'finish', reason: 'tool_calls' },
  ],
  textThenToolCall: (): Step[] => [
    { type: 'text-delta', text: 'Let me check.' },
    { type: 'tool-call-start', index: 0, id: 'call_xyz', name: 'get_weather' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":"Oslo"}' },
    { type: 'tool-call-end', index: 0 },
    { type: 'usage', usage: { inputTokens: 45, outputTokens: 18 } },
    { type: 'finish', reason: 'tool_calls' },
  ],
  customToolCall: (): Step[] => [
    { type: 'tool-call-start', index: 0, id: 'call_patch1', name: 'apply_patch', kind: 'custom' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '*** Begin Patch\n*** Add File: hello.txt\n' },
    { type: 'tool-call-delta', index: 0, argumentsDelta: '+hello\n*** End Patch\n' },
    { type: 'tool-call-end', index: 0 },
    { type: 'usage', usage: { inputTokens: 24, outputTokens: 12 } },
    { type: 'finish', reason: 'tool_calls' },
  ],
  maxTokens: (): Step[] => [
    { type: 'text-delta', text: 'This answer is cut' },
    { type: 'usage', usage: { inputTokens: 10, outputTokens: 5 } },
    { type: 'finish', reason: 'length' },
  ],
  errorBeforeOutput: (): Step[] => [{ throw: new GatewayError('rate_limited', 'Upstream rate limit reached', { retryAfter: 7 }) }],
  errorAfterOutput: (): Step[] => [
    { type: 'text-delta', text: 'Partial' },
    { type: 'error', error: new GatewayError('upstream_overloaded', 'Upstream overloaded') },
  ],
};

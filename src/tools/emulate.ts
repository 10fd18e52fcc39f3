// Tool calling for upstreams without it (Gemini web always; text-only models per config). Wraps a
// provider's event stream: the request's tools become instructions in the system prompt and its
// tool history becomes text in the same protocol; the answer text runs through a streaming parser
// that hides call blocks and turns them into ordinary tool-call events. An invalid call (or none
// when one is required) gets one corrective re-ask; after that the problem is shown as text,
// never as a malformed call. No wire protocol is known here: events in, events out.

import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import { restoreCustomToolCalls, withCustomToolsAsFunctions } from '../core/custom-tools.js';
import { randomId } from '../core/ids.js';
import type { ChatEvent, ChatRequest, Citation, ContentPart, FinishReason, Message } from '../core/types.js';
import type { Provider, ProviderCallContext } from '../core/provider.js';
import type { TtlStore } from '../state/ttl-store.js';
import { parseCall } from './args.js';
import { CORRECTION, renderCall, renderInstructions, renderResult } from './format.js';
import { ToolStreamParser } from './parser.js';

/**
 * The model's own words for answers it gave, by their canonical form (visible text + calls). When
 * the client sends that answer back in its history we replay the exact text, so an upstream that
 * reuses conversations by prefix (Gemini) recognises the turn and gets only the new messages. A
 * TtlStore, so replicas sharing Redis replay each other's answers too (state/).
 */
export type OwnWords = TtlStore<string>;

function canonicalKey(visible: string, calls: Array<{ name: string; arguments: string }>): string {
  const hash = createHash('sha256').update(visible.trim());
  for (const call of calls) hash.update(`\u0000${call.name}\u0001${canonicalJson(call.arguments)}`);
  return hash.digest('base64url');
}

function hasToolHistory(request: ChatRequest): boolean {
  return request.messages.some((m) => m.content.some((p) => p.type === 'tool_call' || p.type === 'tool_result'));
}

/** The request as a text-only model sees it: tools in the system prompt, calls and results as text. */
export async function rewriteForTextModel(request: ChatRequest, ownWords: OwnWords): Promise<ChatRequest> {
  const names = new Map<string, string>();
  const messages: Message[] = [];
  for (const message of request.messages) {
    if (message.role === 'assistant') {
      const calls = message.content.filter((p): p is Extract<ContentPart, { type: 'tool_call' }> => p.type === 'tool_call');
      for (const call of calls) names.set(call.id, call.name);
      const visible = message.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
      const own = await ownWords.get(canonicalKey(visible, calls));
      const text = own ?? [visible.trim(), ...calls.map((c) => renderCall(c.name, parseOr(c.arguments)))].filter(Boolean).join('\n\n');
      messages.push({ role: 'assistant', content: [...message.content.filter((p) => p.type === 'thinking'), { type: 'text', text }] });
    } else if (message.role === 'tool' || message.content.some((p) => p.type === 'tool_result')) {
      const content: ContentPart[] = [];
      for (const part of message.content) {
        if (part.type !== 'tool_result') {
          content.push(part);
          continue;
        }
        const text = part.content.map((c) => (c.type === 'text' ? c.text : '[image attached]')).join('\n');
        content.push({ type: 'text', text: renderResult(names.get(part.callId) ?? 'tool', part.callId, text, part.isError === true) });
        for (const c of part.content) if (c.type === 'image') content.push(c);
      }
      messages.push({ role: 'user', content });
    } else {
      messages.push(message);
    }
  }
  const system = [...request.system];
  if (request.tools.length > 0 && request.toolChoice.type !== 'none') {
    system.push({ type: 'text', text: renderInstructions(request.tools, request.toolChoice, request.parallelToolCalls) });
  }
  return { ...request, system, messages, tools: [], toolChoice: { type: 'none' } };
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Wrap `provider.stream` with tool emulation when the request involves tools. */
export async function* emulateTools(provider: Provider, request: ChatRequest, context: ProviderCallContext, ownWords: OwnWords): AsyncIterable<ChatEvent> {
  if (request.tools.length === 0 && !hasToolHistory(request)) {
    yield* provider.stream(request, context);
    return;
  }
  const { request: functions, customNames } = withCustomToolsAsFunctions(request);
  yield* restoreCustomToolCalls(run(provider, functions, context, ownWords), customNames);
}

async function* run(provider: Provider, request: ChatRequest, context: ProviderCallContext, ownWords: OwnWords): AsyncIterable<ChatEvent> {
  let upstream = await rewriteForTextModel(request, ownWords);
  let callIndex = 0;
  const mustCall = request.toolChoice.type === 'required' || request.toolChoice.type === 'tool';

  for (let attempt = 0; attempt < 2; attempt++) {
    const parser = new ToolStreamParser();
    let raw = '';
    let visible = '';
    let heldText = ''; // a re-ask's text is shown only if it brings no call
    const calls: Array<{ name: string; arguments: string }> = [];
    const errors: string[] = [];
    let finish: FinishReason | undefined;
    // Citations of a cited span (web search) go with the next visible text the parser lets through.
    let cite: Citation[] | undefined;

    const take = function* (pieces: ReturnType<ToolStreamParser['push']>): Generator<ChatEvent> {
      for (const piece of pieces) {
        if (piece.type === 'text') {
          if (attempt === 0) {
            visible += piece.text;
            if (cite && piece.text) {
              yield { type: 'text-delta', text: piece.text, citations: cite };
              cite = undefined;
            } else yield { type: 'text-delta', text: piece.text };
          } else heldText += piece.text;
          continue;
        }
        const parsed = parseCall(piece.raw, request.tools);
        if (!parsed.ok) {
          errors.push(parsed.error);
          continue;
        }
        const args = JSON.stringify(parsed.args);
        const index = callIndex++;
        calls.push({ name: parsed.name, arguments: args });
        yield { type: 'tool-call-start', index, id: randomId('call_'), name: parsed.name };
        yield { type: 'tool-call-delta', index, argumentsDelta: args };
        yield { type: 'tool-call-end', index };
      }
    };

    for await (const event of provider.stream(upstream, context)) {
      if (event.type === 'text-delta') {
        raw += event.text;
        if (event.citations) cite = event.citations;
        yield* take(parser.push(event.text));
      } else if (event.type === 'finish') {
        finish = event.reason;
      } else {
        yield event;
        if (event.type === 'error') return;
      }
    }
    yield* take(parser.end());

    // The re-ask is one more upstream call: it draws from the request's budget like any other.
    const retry = attempt === 0 && (errors.length > 0 || (mustCall && calls.length === 0)) && (context.budget?.take('reask') ?? true);
    if (retry) {
      const correction = errors.length > 0 ? CORRECTION.invalid(errors.join('; ')) : CORRECTION.missing(request.toolChoice);
      context.log.info({ errors, must_call: mustCall }, 'tool emulation: corrective re-ask');
      upstream = {
        ...upstream,
        messages: [...upstream.messages, { role: 'assistant', content: [{ type: 'text', text: raw }] }, { role: 'user', content: [{ type: 'text', text: correction }] }],
      };
      continue;
    }

    if (calls.length === 0) {
      let note = heldText;
      if (errors.length > 0) note += `${note ? '\n\n' : ''}[The model's tool call could not be used: ${errors.join('; ')}]`;
      else if (mustCall && attempt > 0) note += `${note ? '\n\n' : ''}[The model did not call a tool although one was required.]`;
      if (note) yield { type: 'text-delta', text: note };
    }
    if (attempt === 0) await ownWords.set(canonicalKey(visible, calls), raw);
    // "tool_calls" when calls were made is the pipeline's rule (core/event-contract.ts).
    if (finish) yield { type: 'finish', reason: finish };
    return;
  }
}

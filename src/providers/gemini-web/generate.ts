// One Gemini turn on one account: render the prompt (only the new turns on a reuse hit, else the
// flattened transcript) within what Gemini reads (prompt-budget.ts: message.txt, or history
// replayed in parts first), upload attachments, stream StreamGenerate frames as canonical events
// (thoughts -> thinking, reconciled text deltas, images), refuse an answer from another model than
// asked (a silent downgrade to a guest), recover a silently aborted answer from the chat history,
// and store the finished turn for conversation reuse. A request offering web search gets the sources
// Gemini used as one `web-search` event before the text, and the text in cited spans (search.ts).

import { abortSignalOf } from '../../core/call-signal.js';
import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { ProviderCallContext } from '../../core/provider.js';
import { randomId } from '../../core/ids.js';
import type { ChatEvent, ChatRequest, Message, WebSearchOptions } from '../../core/types.js';
import type { TtlStore } from '../../state/ttl-store.js';
import type { Account } from './account.js';
import { uploadAttachments, type FetchOptions } from './attachments.js';
import { turnKey, type StoredConversation } from './conversations.js';
import { emptyAnswer, fromErrorCode, GeminiError } from './errors.js';
import type { ImageLinks } from './image-links.js';
import { modelHeaders, resolveModel, type ResolvedModel } from './models.js';
import { planPrompt } from './prompt-budget.js';
import { readStreamPart, type CandidateSnapshot, type ErrorPart } from './parse.js';
import { cleanKeepingCites, SnapshotReconciler } from './reconcile.js';
import { allowedSources, citedSegments, searchInstruction, searchQuery } from './search.js';
import type { GeminiSession, GenerateParams } from './session.js';
import { renderTranscript } from './transcript.js';

type GeminiConfig = GatewayConfig['gemini'];

/** What a turn needs from the provider: its config, the reuse store and the image link signer. */
export interface TurnContext {
  config: GeminiConfig;
  /** How attachment URLs are fetched (security.*). */
  fetching: FetchOptions;
  /** Which model Google says it served (doctor and status show it). */
  noteServed?(account: string, served: { id?: string; name?: string }): void;
  conversations: TtlStore<StoredConversation>;
  images: ImageLinks;
}

export interface Attempt {
  account: Account;
  reuse?: { stored: StoredConversation; length: number };
}

export async function* generateTurn(turn: TurnContext, request: ChatRequest, context: ProviderCallContext, attempt: Attempt): AsyncIterable<ChatEvent> {
  const { config } = turn;
  // The web client's calls go through undici's request(), which takes a real AbortSignal.
  const signal = abortSignalOf(context.signal);
  const session = await attempt.account.ready(signal);
  const reuse = attempt.reuse;
  const rendered = reuse ? renderTranscript([], request.messages.slice(reuse.length)) : renderTranscript(request.system, request.messages);
  if (request.webSearch?.forced || request.webSearch?.allowedDomains || request.webSearch?.blockedDomains) {
    // No request flag makes Gemini search: the prompt asks for it.
    const line = searchInstruction(request.webSearch);
    rendered.prompt += `\n\n${line}`;
    rendered.newest += `\n\n${line}`;
  }
  const search = request.webSearch ? { options: request.webSearch, query: searchQuery(request) } : undefined;
  if (!rendered.prompt.trim() && rendered.attachments.length === 0) throw new GatewayError('invalid_request', 'Nothing to send: the conversation has no new message', { code: 'empty_prompt' });
  const plan = planPrompt(rendered, config);
  const model = resolveModel(context.upstreamModel, config, session.models);
  const guest = attempt.account.isGuest;
  if (guest) refuseForGuest(model.name, context.upstreamModel, rendered.attachments.length > 0, config);
  const headers = modelHeaders(session, model, config);
  let metadata = reuse?.stored.metadata;
  let turns = reuse?.stored.turns ?? 0;
  const shape = (index: number) => ({ length: config.request.length, slots: config.request.slots, turn: index, number: model.number, thinking: model.thinking });

  // History too long for one file: replayed into the chat first, one acknowledged part per turn.
  for (const [i, part] of (plan.parts ?? []).entries()) {
    if (context.budget && !context.budget.take('history')) throw new GeminiError('upstream_unavailable', 'The upstream call budget ran out while replaying the history', 'none', { code: 'budget_spent', retryable: false });
    const name = `history-${i + 1}.txt`;
    const id = await session.upload(name, 'text/plain', Buffer.from(part, 'utf8'), signal);
    const prompt = `Part ${i + 1} of ${plan.parts!.length} of our conversation so far is in the attached file ${name}. Read it and reply with the single word OK.`;
    const ack = streamAnswer(turn, session, { prompt, files: [{ id, name }], metadata, modelHeaders: headers, temporary: false, shape: shape(turns) }, context, attempt.account.name, model);
    let step = await ack.next();
    while (!step.done) step = await ack.next();
    metadata = step.value.metadata;
    turns++;
  }

  const files = await uploadAttachments(session, rendered, config, turn.fetching, signal);
  if (plan.file !== undefined) files.push({ id: await session.upload('message.txt', 'text/plain', Buffer.from(plan.file, 'utf8'), signal), name: 'message.txt' });
  const params: GenerateParams = { prompt: plan.inline, files, metadata, modelHeaders: headers, temporary: false, shape: shape(turns), ...(request.imageGeneration && !guest ? { imageTool: true } : {}) };
  // The "activity" ping the web app sends before each generation; its answer does not matter.
  void session.rpc('ESY5D', '[[["bard_activity_enabled"]]]').catch(() => undefined);
  context.log.debug({ provider: 'gemini', account: attempt.account.name, reuse: Boolean(reuse), prompt_bytes: Buffer.byteLength(plan.inline), files: files.length, history_parts: plan.parts?.length ?? 0 }, 'gemini request');

  const answer = yield* streamAnswer(turn, session, params, context, attempt.account.name, model, search);
  // A guest's chat id cannot be reused (Google answers 1096): its conversations resend the transcript.
  if (config.conversations.reuse && !guest) {
    const assistant: Message = { role: 'assistant', content: [{ type: 'text', text: answer.text }] };
    await turn.conversations.set(turnKey(request, context.upstreamModel, assistant), { account: attempt.account.name, model: context.upstreamModel, metadata: answer.metadata, turns: turns + 1 });
  }
}

/** What a visitor without cookies cannot have, said with how to add cookies (never served by Flash-Lite instead). */
function refuseForGuest(name: string, requested: string, attachments: boolean, config: GeminiConfig): void {
  const how = 'Add your Google cookies: POST /admin/cookies, the console (/admin/, Accounts), or the cookie-sync extension (docs/gemini.md).';
  if (!config.guest_models.includes(name)) {
    throw new GatewayError('invalid_request', `\`${requested}\` needs a signed-in Google account: without cookies Gemini answers only ${config.guest_models.join(', ')} (as a guest). ${how}`, { code: 'model_needs_cookies', param: 'model' });
  }
  if (attachments) throw new GatewayError('invalid_request', `Images and files need a signed-in Google account (Gemini refuses them for guests). ${how}`, { code: 'attachments_need_cookies' });
}

/**
 * Ends the upstream call once the answer is done or abandoned. Made once: `abort()` without a reason
 * builds a DOMException with a stack trace, ~2 % of a Gemini request's CPU.
 */
const ANSWER_DONE = new GatewayError('invalid_request', 'Gemini answer done or abandoned');

/** Frames -> events. Returns the answer text and the conversation metadata for the next turn. */
async function* streamAnswer(
  turn: TurnContext,
  session: GeminiSession,
  params: GenerateParams,
  context: ProviderCallContext,
  accountName: string,
  model: ResolvedModel,
  search?: { options: WebSearchOptions; query: string },
): AsyncGenerator<ChatEvent, { text: string; metadata: unknown[] }> {
  const { config } = turn;
  const controller = new AbortController();
  const onAbort = () => controller.abort(context.signal.reason);
  context.signal.addEventListener('abort', onAbort, { once: true });
  let timeout: GeminiError | undefined;
  const expire = (message: string) => () => {
    timeout = new GeminiError('timeout', message, 'none', { code: 'upstream_timeout' });
    controller.abort(timeout);
  };
  const total = setTimeout(expire(`Gemini gave no complete answer within ${config.timeouts.total} s`), config.timeouts.total * 1000);
  let watchdog: NodeJS.Timeout | undefined = setTimeout(expire(`Gemini sent no answer within ${config.timeouts.first_byte} s`), config.timeouts.first_byte * 1000);

  const text = new SnapshotReconciler();
  const thoughts = new SnapshotReconciler();
  const previousRcid = typeof params.metadata?.[2] === 'string' ? params.metadata[2] : '';
  let cid = typeof params.metadata?.[0] === 'string' ? params.metadata[0] : '';
  let rid = '';
  let rcid = '';
  let contextToken = '';
  let final = false;
  let pending: ErrorPart | undefined;
  let imagesSent = false;
  let content = false;
  let downgradeNoted = false;
  let searched = false; // a frame listed Google Search: the text waits for the sources (final frame)
  let searchSent = false;

  const emit = function* (candidate: CandidateSnapshot): Generator<ChatEvent> {
    const thought = thoughts.push(candidate.thoughts, candidate.final);
    if (thought) yield { type: 'thinking-delta', text: thought };
    if (search && !candidate.final && searched) return;
    if (search && candidate.final && !searchSent && (searched || candidate.grounding)) {
      searchSent = true;
      const grounding = candidate.grounding;
      const sources = grounding ? allowedSources(grounding.sources, search.options) : [];
      yield { type: 'web-search', id: randomId('ws_'), query: search.query, sources };
      if (grounding && text.emitted === '') {
        const allowed = new Set(sources.map((s) => s.url));
        text.push(candidate.text, true, candidate.cardText); // what was sent, for conversation reuse
        for (const segment of citedSegments(cleanKeepingCites(candidate.text, candidate.cardText), grounding)) {
          const citations = segment.citations?.filter((c) => allowed.has(c.url));
          if (segment.text) yield citations?.length ? { type: 'text-delta', text: segment.text, citations } : { type: 'text-delta', text: segment.text };
        }
        yield* images(candidate);
        return;
      }
    }
    const delta = text.push(candidate.text, candidate.final, candidate.cardText);
    if (delta) yield { type: 'text-delta', text: delta };
    yield* images(candidate);
  };

  const images = function* (candidate: CandidateSnapshot): Generator<ChatEvent> {
    if (candidate.final && !imagesSent) {
      imagesSent = true;
      for (const image of candidate.images) {
        const url = image.generated ? `${context.origin ?? ''}/images/${turn.images.sign(accountName, image.url, config.image_link_ttl * 1000)}` : image.url;
        yield { type: 'image', url, alt: image.alt || 'image' };
      }
    }
  };

  try {
    try {
      for await (const part of session.generate(params, controller.signal, { headersMs: config.timeouts.first_byte * 1000, idleMs: config.timeouts.idle * 1000 })) {
        const read = readStreamPart(part);
        if (read.kind === 'error') {
          // An error after a complete answer (the now-common 1096) is not a failure.
          if (!final) pending = read.error;
          continue;
        }
        if (read.kind !== 'frame') continue;
        const frame = read.frame;
        if (frame.served) turn.noteServed?.(accountName, frame.served);
        if (frame.searched) searched = true;
        if (frame.served?.id && frame.served.id !== model.id && !downgradeNoted) {
          // Expired cookies are not refused: Google answers as a signed-out visitor with a weaker model.
          const message = `Gemini served ${frame.served.name ?? frame.served.id} instead of ${model.display ?? model.name}: the account's cookies expired and Google answered as a signed-out visitor`;
          if (config.on_downgrade === 'refuse') throw new GeminiError('upstream_unavailable', message, 'expired', { code: 'model_downgraded' });
          downgradeNoted = true;
          context.log.warn({ provider: 'gemini', account: accountName, requested: model.name, served: frame.served.name ?? frame.served.id }, 'gemini served another model (gemini.on_downgrade: serve)');
        }
        if (frame.cid) cid = frame.cid;
        if (frame.rid) rid = frame.rid;
        if (frame.context) contextToken = frame.context;
        const candidate = (rcid ? frame.candidates.find((c) => c.rcid === rcid) : undefined) ?? frame.candidates[0];
        if (!candidate || final) continue;
        content = true;
        rcid = candidate.rcid;
        pending = undefined; // content after a "queueing" status: it was not fatal
        if (watchdog) {
          clearTimeout(watchdog);
          watchdog = undefined;
        }
        if (candidate.final) final = true;
        yield* emit(candidate);
      }
    } catch (error) {
      if (context.signal.aborted) throw error;
      throw timeout ?? error;
    }
    if (timeout) throw timeout;

    if (!final) {
      // No content frame at all (1155, or only the trailing 1096): an empty answer, worth another try.
      if (!content && (!pending || pending.code === 1155 || pending.code === 1096)) throw emptyAnswer();
      if (pending && pending.code !== null) throw fromErrorCode(pending.code, pending.status);
      // Silently aborted: if the turn was stored, read it back from the chat history.
      const recovered = cid && contextToken ? await recover(session, cid, previousRcid, rcid, config, controller.signal) : undefined;
      if (!recovered) {
        if (pending) throw fromErrorCode(null, pending.status);
        throw new GeminiError('upstream_unavailable', 'Gemini ended the stream without an answer (silently aborted)', 'none', { code: 'gemini_aborted' });
      }
      rcid = recovered.rcid;
      rid = recovered.rid || rid;
      yield* emit(recovered.candidate);
    }
    if (text.divergences > 0) context.log.warn({ provider: 'gemini', divergences: text.divergences }, 'gemini rewrote text that was already streamed');
    yield { type: 'finish', reason: 'stop' };
    return { text: text.emitted, metadata: [cid, rid, rcid, null, null, null, null, null, null, contextToken] };
  } finally {
    clearTimeout(total);
    clearTimeout(watchdog);
    context.signal.removeEventListener('abort', onAbort);
    if (!controller.signal.aborted) controller.abort(ANSWER_DONE);
  }
}

/** Poll the chat (hNvQHb) for the turn a silently aborted stream produced. */
async function recover(
  session: GeminiSession,
  cid: string,
  previousRcid: string,
  streamedRcid: string,
  config: GeminiConfig,
  signal: AbortSignal,
): Promise<{ candidate: CandidateSnapshot; rid: string; rcid: string } | undefined> {
  const deadline = Date.now() + config.recovery_timeout * 1000;
  while (Date.now() <= deadline && !signal.aborted) {
    const body = await session.rpc('hNvQHb', JSON.stringify([cid, 10, null, 1, [1], [4], null, 1]), signal).catch(() => undefined);
    const turns = Array.isArray(body) && Array.isArray(body[0]) ? (body[0] as unknown[][]) : [];
    const newest = turns[0];
    if (Array.isArray(newest)) {
      const rid = typeof (newest[0] as unknown[] | undefined)?.[1] === 'string' ? ((newest[0] as unknown[])[1] as string) : '';
      const c = ((newest[3] as unknown[] | undefined)?.[0] as unknown[] | undefined)?.[0];
      const parsed = Array.isArray(c) && typeof c[0] === 'string' ? readCandidateFromTurn(c) : undefined;
      if (parsed && parsed.rcid !== previousRcid && (parsed.rcid === streamedRcid || !streamedRcid || parsed.rcid !== previousRcid)) {
        return { candidate: { ...parsed, final: true }, rid, rcid: parsed.rcid };
      }
    }
    await new Promise((r) => setTimeout(r, config.recovery_poll_interval * 1000));
  }
  return undefined;
}

function readCandidateFromTurn(c: unknown[]): CandidateSnapshot | undefined {
  const part = ['wrb.fr', null, JSON.stringify([null, null, null, null, [c]])];
  const read = readStreamPart(part);
  return read.kind === 'frame' ? read.frame.candidates[0] : undefined;
}

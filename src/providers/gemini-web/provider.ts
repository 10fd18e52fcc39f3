// Gemini through the consumer web app. Picks an account (the conversation's own one on a reuse hit,
// else round-robin over healthy accounts), renders the prompt (only the new turns on a hit, else
// the flattened transcript), uploads attachments, streams StreamGenerate frames as canonical
// events (thoughts -> thinking, reconciled text deltas, images), and stores the finished turn for
// reuse. Failures before any output fail over to the next account; after output they end the stream.

import { request as undiciRequest } from 'undici';
import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { ChatEvent, ChatRequest, Message, ModelInfo } from '../../core/types.js';
import type { SecretRegistry } from '../../secrets.js';
import { transportError } from '../openai-compatible/errors.js';
import type { Provider, ProviderCallContext, ProviderHealth, ProviderLog } from '../../core/provider.js';
import { Account, type AccountSettings } from './account.js';
import { prefixKeys, turnKey, type StoredConversation } from './conversations.js';
import { MemoryTtlStore, type TtlStore } from '../../state/ttl-store.js';
import { SOLO, type AccountCoordinator } from '../../state/account-coordinator.js';
import { fromErrorCode, GeminiError } from './errors.js';
import { extensionFor, ImageLinks } from './image-links.js';
import { readStreamPart, type CandidateSnapshot, type ErrorPart } from './parse.js';
import { SnapshotReconciler } from './reconcile.js';
import type { GeminiSession, GenerateParams } from './session.js';
import { renderTranscript, type Rendered } from './transcript.js';

type GeminiConfig = GatewayConfig['gemini'];

const LONG_PROMPT_NOTE =
  'The full conversation is in the attached file message.txt. Read it and continue: reply as the assistant to its last message.';

function accountSettings(config: GeminiConfig, proxy: string | undefined): AccountSettings {
  return {
    endpoints: config.endpoints,
    language: config.language,
    connectTimeoutMs: config.timeouts.connect * 1000,
    proxy: proxy ?? config.proxy,
    cooldownMs: { usageLimit: config.cooldown.usage_limit * 1000, blocked: config.cooldown.blocked * 1000 },
  };
}

interface Attempt {
  account: Account;
  reuse?: { stored: StoredConversation; length: number };
}

export class GeminiWebProvider implements Provider {
  readonly id = 'gemini';
  readonly capabilities = { nativeTools: false, images: true, thinking: true };
  private readonly accounts = new Map<string, Account>();
  private order: Account[] = [];
  private next = 0;
  private config!: GeminiConfig;
  readonly images = new ImageLinks();
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly secrets: SecretRegistry,
    private readonly log: ProviderLog,
    /** Finished turns by key, in memory or shared between replicas. */
    readonly conversations: TtlStore<StoredConversation> = new MemoryTtlStore(2000, 3_600_000),
    private readonly shared: AccountCoordinator = SOLO,
  ) {}

  /** Apply `gemini.*` (start-up and every reload): accounts, rotation, conversation limits. */
  apply(config: GeminiConfig): Promise<void> {
    this.config = config;
    this.conversations.configure(config.conversations.max_entries, config.conversations.ttl * 1000);
    const wanted = config.accounts.length > 0 ? config.accounts : [{ name: 'default', cookie_path: config.cookie_path, proxy: undefined }];
    const loads: Array<Promise<void>> = [];
    for (const [name, account] of this.accounts) {
      const spec = wanted.find((w) => w.name === name);
      if (!spec || spec.cookie_path !== account.cookiePath) {
        this.accounts.delete(name);
        void account.close();
      }
    }
    for (const spec of wanted) {
      const settings = accountSettings(config, spec.proxy);
      let account = this.accounts.get(spec.name);
      if (account) {
        account.updateSettings(settings);
        if (account.state === 'no_cookies') loads.push(account.load()); // the file may exist now
      } else {
        account = new Account(spec.name, spec.cookie_path, settings, this.secrets, this.log, this.shared);
        this.accounts.set(spec.name, account);
        loads.push(account.load());
      }
      account.scheduleRotation(config.auto_refresh, config.refresh_interval * 1000);
    }
    this.order = wanted.map((w) => this.accounts.get(w.name)!);
    this.loading = Promise.all(loads).then(() => undefined);
    return this.loading;
  }

  account(name?: string): Account | undefined {
    return name ? this.accounts.get(name) : this.order[0];
  }

  accountNames(): string[] {
    return this.order.map((a) => a.name);
  }

  async *stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent> {
    await this.loading;
    // A cookie file put in place by hand (not through /admin/cookies) is picked up on first use.
    await Promise.all(this.order.filter((a) => a.state === 'no_cookies').map((a) => a.load()));
    // Cookies and cool-downs other replicas saw (a no-op without Redis).
    await Promise.all(this.order.map((a) => a.syncShared()));
    const config = this.config;
    const attempts = await this.plan(request, context.upstreamModel);
    if (attempts.length === 0) throw this.noAccount();
    let lastError: GatewayError | undefined;
    for (const attempt of attempts) {
      let produced = false;
      let tokenRetried = false;
      for (;;) {
        try {
          for await (const event of this.attempt(request, context, attempt, config)) {
            produced = true;
            yield event;
          }
          return;
        } catch (error) {
          if (produced || context.signal.aborted) throw error;
          const failure = error instanceof GatewayError ? error : transportError(error, 'Gemini');
          lastError = failure;
          if (failure instanceof GeminiError) {
            if (failure.code === 'gemini_bad_request' && !tokenRetried) {
              // HTTP 400: most often a stale access token. Re-read the page once and retry.
              tokenRetried = true;
              await attempt.account.refreshToken(context.signal).catch(() => undefined);
              continue;
            }
            if (failure.geminiCode === 1050 && attempt.reuse) {
              // The stored chat used another model: start a new chat instead.
              delete attempt.reuse;
              continue;
            }
            attempt.account.mark(failure.effect, failure);
          }
          if (!failure.retryable && !(failure instanceof GeminiError && failure.effect !== 'none')) throw failure;
          context.log.warn({ provider: 'gemini', account: attempt.account.name, kind: failure.kind, err: failure.message }, 'gemini account failed before output');
          break;
        }
      }
    }
    throw lastError ?? new GeminiError('upstream_unavailable', 'No Gemini account could answer');
  }

  /** One short prompt through one account (the console's "test" button). */
  async probe(accountName: string, model: string, signal: AbortSignal): Promise<string> {
    await this.loading;
    const account = this.accounts.get(accountName);
    if (!account) throw new GatewayError('not_found', `No Gemini account named "${accountName}"`, { code: 'unknown_account' });
    const request: ChatRequest = { model, system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'Reply with the single word OK.' }] }], tools: [], toolChoice: { type: 'auto' }, stream: true };
    const context: ProviderCallContext = { upstreamModel: model, signal, log: this.log, requestId: 'probe' };
    let text = '';
    try {
      for await (const event of this.attempt(request, context, { account }, { ...this.config, conversations: { ...this.config.conversations, reuse: false } })) {
        if (event.type === 'text-delta') text += event.text;
      }
    } catch (error) {
      if (error instanceof GeminiError) account.mark(error.effect, error);
      throw error;
    }
    return text.trim();
  }

  /** Why no account can serve: resting ones give a 429 with the time until the first is back. */
  private noAccount(): GeminiError {
    if (this.accounts.size === 0) return new GeminiError('upstream_unavailable', 'No Gemini account is configured', 'none', { code: 'no_usable_account' });
    const resting = this.order.filter((a) => (a.state === 'cooling' || a.state === 'blocked') && a.until !== undefined);
    if (resting.length > 0) {
      const soonest = Math.min(...resting.map((a) => a.until!));
      const retryAfter = Math.max(1, Math.ceil((soonest - Date.now()) / 1000));
      const kind = resting.every((a) => a.state === 'blocked') ? 'upstream_overloaded' : 'rate_limited';
      return new GeminiError(kind, `Every Gemini account is resting after a usage limit or block; the first is back in ${retryAfter} s`, 'none', { code: 'accounts_resting', retryAfter });
    }
    if (this.order.every((a) => a.state === 'no_cookies')) {
      return new GeminiError('upstream_unavailable', 'Gemini has no cookies yet: POST them to /admin/cookies (or write gemini.cookie_path)', 'none', { code: 'no_cookies' });
    }
    return new GeminiError('upstream_unavailable', 'No Gemini account is usable right now (see /admin/cookies/status)', 'none', { code: 'no_usable_account' });
  }

  /** The conversation's own account first (reuse), then the healthy others round-robin. */
  private async plan(request: ChatRequest, model: string): Promise<Attempt[]> {
    const healthy = this.order.filter((a) => a.usable());
    if (healthy.length === 0) return [];
    if (this.config.conversations.reuse && request.messages.length > 1) {
      for (const { key, length } of prefixKeys(request, model)) {
        const stored = await this.conversations.get(key);
        if (!stored) continue;
        const account = this.accounts.get(stored.account);
        if (account?.usable()) return [{ account, reuse: { stored, length } }, ...healthy.filter((a) => a !== account).map((a) => ({ account: a }))];
        break;
      }
    }
    // New conversations take turns over the healthy accounts.
    const start = this.next++ % healthy.length;
    return [...healthy.slice(start), ...healthy.slice(0, start)].map((account) => ({ account }));
  }

  private async *attempt(request: ChatRequest, context: ProviderCallContext, attempt: Attempt, config: GeminiConfig): AsyncIterable<ChatEvent> {
    const session = await attempt.account.ready(context.signal);
    const reuse = attempt.reuse;
    const rendered = reuse ? renderTranscript([], request.messages.slice(reuse.length)) : renderTranscript(request.system, request.messages);
    if (!rendered.prompt.trim() && rendered.attachments.length === 0) throw new GatewayError('invalid_request', 'Nothing to send: the conversation has no new message', { code: 'empty_prompt' });
    const { prompt, files } = await this.prepare(session, rendered, config, context.signal);
    const params: GenerateParams = {
      prompt,
      files,
      metadata: reuse?.stored.metadata,
      modelHeaders: this.modelHeaders(session, context.upstreamModel, config),
      temporary: false,
    };
    // The "activity" ping the web app sends before each generation; its answer does not matter.
    void session.rpc('ESY5D', '[[["bard_activity_enabled"]]]').catch(() => undefined);
    context.log.debug({ provider: 'gemini', account: attempt.account.name, reuse: Boolean(reuse), prompt_chars: prompt.length, files: files.length }, 'gemini request');

    const answer = yield* this.run(session, params, context, config, attempt.account.name);
    if (config.conversations.reuse) {
      const assistant: Message = { role: 'assistant', content: [{ type: 'text', text: answer.text }] };
      await this.conversations.set(turnKey(request, context.upstreamModel, assistant), { account: attempt.account.name, model: context.upstreamModel, metadata: answer.metadata });
    }
  }

  /** Uploads attachments (and a long prompt as message.txt) with real filenames. */
  private async prepare(session: GeminiSession, rendered: Rendered, config: GeminiConfig, signal: AbortSignal): Promise<{ prompt: string; files: GenerateParams['files'] }> {
    const files: GenerateParams['files'] = [];
    let index = 0;
    for (const part of rendered.attachments) {
      index++;
      const { data, mimeType } = await this.attachmentBytes(part, config, signal);
      const name = part.type === 'file' && part.filename ? part.filename : `${part.type === 'image' ? 'image' : 'file'}-${index}.${extensionFor(mimeType)}`;
      files.push({ id: await session.upload(name, mimeType, data, signal), name });
    }
    let prompt = rendered.prompt;
    if (prompt.length > config.max_prompt_chars) {
      const name = 'message.txt';
      files.push({ id: await session.upload(name, 'text/plain', Buffer.from(prompt, 'utf8'), signal), name });
      prompt = LONG_PROMPT_NOTE;
    }
    return { prompt, files };
  }

  private async attachmentBytes(part: Rendered['attachments'][number], config: GeminiConfig, signal: AbortSignal): Promise<{ data: Buffer; mimeType: string }> {
    const limit = config.max_attachment_bytes;
    if (part.type === 'image' && part.mimeType && !/^image\/(png|jpe?g|gif|webp|heic|heif)$/i.test(part.mimeType)) {
      throw new GatewayError('unsupported_media_type', `Images must be PNG, JPEG, GIF, WebP or HEIC, not ${part.mimeType}`, { code: 'unsupported_image_type' });
    }
    if (part.data !== undefined) {
      const data = Buffer.from(part.data, 'base64');
      if (data.length > limit) throw new GatewayError('request_too_large', `An attachment is ${data.length} bytes; the limit is ${limit}`, { code: 'attachment_too_large' });
      return { data, mimeType: part.mimeType ?? 'application/octet-stream' };
    }
    const url = part.url ?? '';
    if (!/^https?:\/\//i.test(url)) throw new GatewayError('invalid_request', 'An attachment has neither data nor an http(s) URL', { code: 'invalid_attachment' });
    let res;
    try {
      res = await undiciRequest(url, { method: 'GET', signal, headersTimeout: 15_000, bodyTimeout: 15_000 });
    } catch (error) {
      throw new GatewayError('invalid_request', `Could not fetch the attachment ${url}: ${(error as Error).message}`, { code: 'attachment_fetch_failed' });
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new GatewayError('invalid_request', `Could not fetch the attachment ${url}: HTTP ${res.statusCode}`, { code: 'attachment_fetch_failed' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        res.body.destroy();
        throw new GatewayError('request_too_large', `The attachment at ${url} is larger than ${limit} bytes`, { code: 'attachment_too_large' });
      }
      chunks.push(chunk as Buffer);
    }
    const type = String(res.headers['content-type'] ?? part.mimeType ?? 'application/octet-stream').split(';')[0]!.trim();
    return { data: Buffer.concat(chunks), mimeType: part.mimeType ?? type };
  }

  /** Model selector headers: the configured id (or the one the account lists under the same display name). */
  private modelHeaders(session: GeminiSession, model: string, config: GeminiConfig): Record<string, string> {
    const entry = config.model_map[model];
    if (!entry) {
      if (!/^[0-9a-f]{16}$/.test(model)) throw new GatewayError('invalid_request', `No Gemini model id for \`${model}\`: add it to gemini.model_map`, { code: 'model_invalid', param: 'model' });
    }
    let id = entry?.id ?? model;
    if (entry?.display && session.models.length > 0 && !session.models.some((m) => m.id === id)) {
      const discovered = session.models.find((m) => m.display.toLowerCase() === entry.display!.toLowerCase());
      if (discovered) id = discovered.id;
    }
    const header = config.model_header.replace('{id}', id).replace('{capacity}', String(session.capacity));
    return { 'x-goog-ext-525001261-jspb': header, ...config.model_extra_headers };
  }

  /** Frames -> events. Returns the answer text and the conversation metadata for the next turn. */
  private async *run(
    session: GeminiSession,
    params: GenerateParams,
    context: ProviderCallContext,
    config: GeminiConfig,
    accountName: string,
  ): AsyncGenerator<ChatEvent, { text: string; metadata: unknown[] }> {
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

    const emit = function* (this: GeminiWebProvider, candidate: CandidateSnapshot): Generator<ChatEvent> {
      const thought = thoughts.push(candidate.thoughts, candidate.final);
      if (thought) yield { type: 'thinking-delta', text: thought };
      const delta = text.push(candidate.text, candidate.final, candidate.cardText);
      if (delta) yield { type: 'text-delta', text: delta };
      if (candidate.final && !imagesSent) {
        imagesSent = true;
        for (const image of candidate.images) {
          const url = image.generated ? this.imageLink(accountName, image.url, context, config) : image.url;
          yield { type: 'image', url, alt: image.alt || 'image' };
        }
      }
    }.bind(this);

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
          if (frame.cid) cid = frame.cid;
          if (frame.rid) rid = frame.rid;
          if (frame.context) contextToken = frame.context;
          const candidate = (rcid ? frame.candidates.find((c) => c.rcid === rcid) : undefined) ?? frame.candidates[0];
          if (!candidate || final) continue;
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
        if (pending && pending.code !== null) throw fromErrorCode(pending.code, pending.status);
        // Silently aborted: if the turn was stored, read it back from the chat history.
        const recovered = cid && contextToken ? await this.recover(session, cid, previousRcid, rcid, config, controller.signal) : undefined;
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
      if (!controller.signal.aborted) controller.abort();
    }
  }

  /** Poll the chat (hNvQHb) for the turn a silently aborted stream produced. */
  private async recover(
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

  private imageLink(account: string, url: string, context: ProviderCallContext, config: GeminiConfig): string {
    const token = this.images.sign(account, url, config.image_link_ttl * 1000);
    return `${context.origin ?? ''}/images/${token}`;
  }

  /** Serve a signed image link: fetch the image with the account's cookies. */
  async fetchImage(token: string): Promise<{ status: number; type: string; body: Buffer }> {
    const link = this.images.verify(token);
    if (!link) throw new GatewayError('not_found', 'This image link is invalid or expired', { code: 'image_link_invalid' });
    const account = this.accounts.get(link.account);
    if (!account) throw new GatewayError('not_found', 'The account of this image is gone', { code: 'image_link_invalid' });
    const session = await account.ready();
    return session.fetchBinary(link.url);
  }

  async listModels(): Promise<ModelInfo[]> {
    return (this.config?.models ?? []).map((id) => ({ id, provider: this.id }));
  }

  health(): ProviderHealth {
    const states = this.order.map((a) => ({ name: a.name, state: a.state, usable: a.usable() }));
    const usable = states.some((s) => s.usable);
    return { state: usable ? (states.every((s) => s.usable) ? 'ok' : 'degraded') : 'unavailable', usable, accounts: states.map(({ name, state }) => ({ name, state })) };
  }

  status(): Record<string, unknown>[] {
    return this.order.map((a) => a.status(this.config.auto_refresh));
  }

  async close(): Promise<void> {
    await Promise.all([...this.accounts.values()].map((a) => a.close()));
  }
}

function readCandidateFromTurn(c: unknown[]): CandidateSnapshot | undefined {
  const part = ['wrb.fr', null, JSON.stringify([null, null, null, null, [c]])];
  const read = readStreamPart(part);
  return read.kind === 'frame' ? read.frame.candidates[0] : undefined;
}

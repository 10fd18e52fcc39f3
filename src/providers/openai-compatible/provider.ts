// A provider for any OpenAI-compatible Chat Completions endpoint; gpt4free is a preset of it
// (its key goes in `g4f-api-key`, and models may be pinned to a g4f provider). Calls go through
// net/upstream-call.ts on a keep-alive dispatcher; the client's abort signal goes all the way to the socket.

import type { Dispatcher } from 'undici';
import { restoreCustomToolCalls, withCustomToolsAsFunctions } from '../../core/custom-tools.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { ChatEvent, ChatRequest, ModelInfo } from '../../core/types.js';
import { globMatch } from '../../core/glob.js';
import { createDispatcher } from '../../net/dispatchers.js';
import type { Diagnosable, Provider, ProviderCallContext, ProviderHealth, UpstreamQuery } from '../../core/provider.js';
import { diagnoseOpenAICompatible } from './doctor.js';
import { buildChatBody } from './request.js';
import { transportError } from '../../net/transport-errors.js';
import { retryAfterSeconds, upstreamErrorFromBody } from './errors.js';
import { batchesOf, eventsOf } from '../../core/event-batches.js';
import { ChunkMapper, completionEvents, SseSplitter } from './stream.js';
import { UpstreamCall, type UpstreamHead } from '../../net/upstream-call.js';

export interface OpenAICompatibleSettings {
  id: string;
  baseUrl: string;
  /** Extra headers, auth included (Bearer for generic upstreams, g4f-api-key for g4f). */
  headers: Record<string, string>;
  models: string[];
  discoverModels: boolean;
  proxy?: string | undefined;
  timeouts: { connectMs: number; firstByteMs: number; idleMs: number; totalMs: number };
  /** Model (glob) -> g4f provider name, sent as the body field `provider`. */
  providerPinning?: Record<string, string>;
}

const DISCOVERY_TTL_MS = 5 * 60_000;
const ERROR_BODY_LIMIT = 64 * 1024;

export class OpenAICompatibleProvider implements Provider {
  readonly id: string;
  readonly capabilities = { nativeTools: true };
  readonly upstreamQuery: UpstreamQuery = { getJson: (path) => this.getJson(path) };
  readonly doctor: Diagnosable = {
    diagnose: (step, print) => {
      print(`${this.id} (${this.settings.baseUrl}):`);
      return diagnoseOpenAICompatible(this.upstreamQuery, step);
    },
  };
  private readonly dispatcher: Dispatcher;
  /** The base URL split for undici's dispatch: origin, and the path prefix (e.g. /v1). */
  private readonly origin: string;
  private readonly basePath: string;
  private readonly chatPath: string;
  private readonly chatHeaders: Record<string, string>;
  private discovered: { at: number; models: string[] } | undefined;
  private lastFailure: { at: number; message: string } | undefined;

  constructor(readonly settings: OpenAICompatibleSettings) {
    this.id = settings.id;
    const url = new URL(settings.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.chatPath = `${this.basePath}/chat/completions`;
    this.chatHeaders = { 'content-type': 'application/json', accept: 'text/event-stream', ...settings.headers };
    this.dispatcher = createDispatcher({ proxy: settings.proxy, connectTimeoutMs: settings.timeouts.connectMs });
  }

  stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent> {
    return eventsOf(this.streamBatches(request, context));
  }

  /** The events of each upstream read together: one step per network chunk, not per event. */
  streamBatches(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent[]> {
    const { request: upstream, customNames } = withCustomToolsAsFunctions(request);
    const pinned = this.pinnedProvider(context.upstreamModel);
    const body = buildChatBody(upstream, context.upstreamModel, pinned ? { provider: pinned } : {});
    const batches = this.send(body, context);
    // Custom tools are restored event by event (rare: Codex's freeform tools).
    return customNames.size === 0 ? batches : batchesOf(restoreCustomToolCalls(eventsOf(batches), customNames));
  }

  private async *send(body: Record<string, unknown>, context: ProviderCallContext): AsyncIterable<ChatEvent[]> {
    const { timeouts } = this.settings;
    // One abort path: the client's signal, the total budget and the first-event timer all end the
    // call directly (no AbortController of our own).
    let timeoutReason: GatewayError | undefined;
    let call: UpstreamCall | undefined;
    const onAbort = () => call!.abort(context.signal.reason as Error);
    // Errors are built only when a timer fires: a GatewayError captures a stack, which is not free.
    const expire = (message: string) => () => {
      timeoutReason = new GatewayError('timeout', message, { code: 'upstream_timeout' });
      call!.abort(timeoutReason);
    };
    const total = setTimeout(expire(`Upstream ${this.id}: no complete answer within ${timeouts.totalMs / 1000} s`), timeouts.totalMs);
    let firstEvent: NodeJS.Timeout | undefined = setTimeout(expire(`Upstream ${this.id}: no answer within ${timeouts.firstByteMs / 1000} s`), timeouts.firstByteMs);
    let finished = false;
    const started = performance.now();
    try {
      call = new UpstreamCall(this.dispatcher, {
        origin: this.origin,
        path: this.chatPath,
        method: 'POST',
        headers: this.chatHeaders,
        body: JSON.stringify(body),
        headersTimeout: timeouts.firstByteMs,
        bodyTimeout: timeouts.idleMs,
      });
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener('abort', onAbort, { once: true });
      let head: UpstreamHead;
      try {
        head = await call.response();
      } catch (error) {
        throw this.failure(timeoutReason ?? transportError(error, `Upstream ${this.id}`), context);
      }
      context.log.debug({ upstream: this.id, status: head.status, headers_ms: Math.round(performance.now() - started) }, 'upstream responded');

      if (head.status >= 400) {
        const text = await readCallLimited(call, ERROR_BODY_LIMIT).catch(() => '');
        throw this.failure(upstreamErrorFromBody(parseJson(text) ?? { error: text.slice(0, 500) }, head.status, retryAfterSeconds(head.headers['retry-after'])), context);
      }

      const type = String(head.headers['content-type'] ?? '');
      if (type.includes('application/json')) {
        let text: string;
        try {
          text = await readCallLimited(call, 16 * 1024 * 1024);
        } catch (error) {
          throw this.failure(timeoutReason ?? transportError(error, `Upstream ${this.id}`), context);
        }
        const parsed = parseJson(text);
        if (!parsed) throw this.failure(new GatewayError('upstream_unavailable', `Upstream ${this.id} sent an unreadable JSON answer`, { code: 'upstream_malformed' }), context);
        clearTimeout(firstEvent);
        firstEvent = undefined;
        yield completionEvents(parsed);
        this.lastFailure = undefined;
        finished = true;
        return;
      }

      const mapper = new ChunkMapper();
      const splitter = new SseSplitter();
      const payloads: string[] = [];
      try {
        // Everything undici queued since the last step at once: one step per read, not per chunk.
        for (let chunks = await call.read(); chunks; chunks = await call.read()) {
          if (splitter.done) continue;
          for (const chunk of chunks) splitter.push(chunk, payloads);
          if (payloads.length === 0) continue;
          const events: ChatEvent[] = [];
          const malformed = mapAll(mapper, payloads, events);
          payloads.length = 0;
          if (events.length === 0) {
            if (malformed) throw malformed;
            continue;
          }
          if (firstEvent) {
            clearTimeout(firstEvent);
            firstEvent = undefined;
            context.log.debug({ upstream: this.id, first_event_ms: Math.round(performance.now() - started) }, 'upstream first event');
          }
          yield events;
          // What came before a bad chunk went out first (it may have served the request already).
          if (malformed) throw malformed;
        }
        splitter.end(payloads);
        const events: ChatEvent[] = [];
        const malformed = mapAll(mapper, payloads, events);
        if (events.length > 0) yield events;
        if (malformed) throw malformed;
      } catch (error) {
        if (context.signal.aborted) throw error;
        throw this.failure(timeoutReason ?? transportError(error, `Upstream ${this.id} stream`), context);
      }
      if (timeoutReason) throw this.failure(timeoutReason, context);
      const tail = mapper.end();
      if (tail.length > 0) yield tail;
      this.lastFailure = undefined;
      finished = true;
    } finally {
      clearTimeout(total);
      clearTimeout(firstEvent);
      context.signal.removeEventListener('abort', onAbort);
      // Ends the upstream request if the consumer stopped early (client gone, error downstream).
      if (!finished && call && !call.finished) call.abort(new GatewayError('invalid_request', 'upstream call abandoned'));
    }
  }

  async listModels(): Promise<ModelInfo[]> {
    const names = this.settings.models.filter((m) => !/[*?]/.test(m));
    if (this.settings.discoverModels) names.push(...(await this.discover()));
    return [...new Set(names)].map((id) => ({ id, provider: this.id }));
  }

  /** Discovered model names as last fetched (synchronous, for routing); refreshes in the background. */
  knownModels(): string[] {
    if (!this.settings.discoverModels) return [];
    if (!this.discovered || Date.now() - this.discovered.at > DISCOVERY_TTL_MS) void this.discover();
    return this.discovered?.models ?? [];
  }

  health(): ProviderHealth {
    const recent = this.lastFailure && Date.now() - this.lastFailure.at < 60_000;
    return recent ? { state: 'degraded', usable: true, detail: this.lastFailure!.message } : { state: 'ok', usable: true };
  }

  /** GET a JSON document from the upstream (model discovery, g4f's /providers). */
  async getJson(path: string, signal?: AbortSignal): Promise<unknown> {
    const call = new UpstreamCall(this.dispatcher, {
      origin: this.origin,
      path: `${this.basePath}${path}`,
      method: 'GET',
      headers: { accept: 'application/json', ...this.settings.headers },
      headersTimeout: this.settings.timeouts.firstByteMs,
      bodyTimeout: this.settings.timeouts.idleMs,
    });
    const onAbort = () => call.abort(signal!.reason as Error);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let status: number;
      let text: string;
      try {
        status = (await call.response()).status;
        text = await readCallLimited(call, 8 * 1024 * 1024);
      } catch (error) {
        throw transportError(error, `Upstream ${this.id}`);
      }
      if (status >= 400) throw upstreamErrorFromBody(parseJson(text) ?? { error: text.slice(0, 500) }, status);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined) throw new GatewayError('upstream_unavailable', `Upstream ${this.id} sent invalid JSON for ${path}`);
      return parsed;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async discover(): Promise<string[]> {
    try {
      const body = (await this.getJson('/models')) as { data?: Array<{ id?: unknown }> };
      const models = (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
      this.discovered = { at: Date.now(), models };
      return models;
    } catch {
      this.discovered = { at: Date.now(), models: this.discovered?.models ?? [] };
      return this.discovered.models;
    }
  }

  private pinnedProvider(model: string): string | undefined {
    const pinning = this.settings.providerPinning;
    if (!pinning) return undefined;
    if (pinning[model]) return pinning[model];
    for (const [pattern, provider] of Object.entries(pinning)) if (globMatch(pattern, model)) return provider;
    return undefined;
  }

  private failure(error: GatewayError, context: ProviderCallContext): GatewayError {
    if (!context.signal.aborted) {
      this.lastFailure = { at: Date.now(), message: error.message };
      context.log.debug({ upstream: this.id, kind: error.kind, err: error.message }, 'upstream failed');
    }
    return error;
  }
}

/** Maps payloads into `events` up to the first one that fails; returns that failure. */
function mapAll(mapper: ChunkMapper, payloads: string[], events: ChatEvent[]): unknown {
  try {
    for (const payload of payloads) mapper.mapPayload(payload, events);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** The body of an UpstreamCall as text, up to `limit` bytes (the call is ended past it). */
async function readCallLimited(call: UpstreamCall, limit: number): Promise<string> {
  const out: Buffer[] = [];
  let size = 0;
  for (let chunks = await call.read(); chunks; chunks = await call.read()) {
    for (const chunk of chunks) {
      size += chunk.length;
      if (size > limit) {
        call.abort(new GatewayError('upstream_unavailable', 'upstream body over the limit'));
        return Buffer.concat(out).toString('utf8');
      }
      out.push(chunk);
    }
  }
  return Buffer.concat(out).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

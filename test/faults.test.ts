// Faults, end to end through the gateway on real loopback sockets: every upstream fault of issue 8,
// each through a streaming OpenAI client and a non-streaming Anthropic client. For each the client gets
// a protocol-correct answer or terminal event within the configured time, fallbacks happen only before
// the first byte, nothing is spliced, and the gateway's in-flight counts return to zero. Client side: a
// client that stops reading holds the upstream back (backpressure) instead of the gateway buffering
// the answer. (A client leaving mid-stream: test/providers/openai-compatible.test.ts.)
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inflightCount } from '../src/http/lifecycle.js';
import { FakeGemini, PSID, PSIDTS } from './fakes/gemini-web.js';
import { FakeUpstream, rawChunk, textChunks } from './fakes/openai-upstream.js';
import { startTestGateway, waitFor, type TestGateway } from './helpers/gateway.js';

const TOKEN = 'faults-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let t: TestGateway | undefined;
let primary: FakeUpstream;
let backup: FakeUpstream;
let gemini: FakeGemini;

afterEach(async () => {
  await t?.stop();
  t = undefined;
  await primary?.stop();
  await backup?.stop();
  await gemini?.stop();
});

async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function gateway(primaryUrl?: string): Promise<TestGateway> {
  primary = await new FakeUpstream().start();
  backup = await new FakeUpstream().start();
  gemini = await new FakeGemini().start();
  backup.handler = () => ({ sse: textChunks('from backup') });
  const refused = await closedPort();
  t = await startTestGateway(
    (dir) =>
      `auth:\n  bearer_token: ${TOKEN}\nserver:\n  sse_commit_after: 0.3\n  sse_ping_interval: 0.2\n` +
      `g4f:\n  base_url: ${primaryUrl ?? primary.url}/v1\n  models: ["gpt-*"]\n  fallback:\n    max_retries: 1\n    timeout: 1\n  timeouts:\n    idle: 1\n    total: 4\n` +
      `openai_compatible:\n` +
      `  - name: backup\n    base_url: ${backup.url}/v1\n    models: ["backup-*"]\n` +
      `  - name: refused\n    base_url: http://127.0.0.1:${refused}/v1\n    models: ["refused-*"]\n` +
      // .invalid never resolves (RFC 6761): a DNS failure without any network.
      `  - name: nodns\n    base_url: http://upstream.invalid/v1\n    models: ["nodns-*"]\n` +
      `routing:\n  fallbacks:\n    "gpt-4o": [backup-model]\n    "refused-model": [backup-model]\n` +
      `gemini:\n  cookie_path: ${path.join(dir, 'gemini.json')}\n  models: [gemini-3-flash]\n  auto_refresh: false\n  conversations:\n    reuse: false\n` +
      `  endpoints:\n    gemini: ${gemini.url}\n    accounts: ${gemini.url}\n    upload: ${gemini.url}\n    google: ${gemini.url}\n` +
      `  timeouts:\n    first_byte: 1\n    idle: 1\n    total: 4\n  recovery_timeout: 0.5\n  recovery_poll_interval: 0.1\n`,
    { files: { 'gemini.json': JSON.stringify({ '__Secure-1PSID': PSID, '__Secure-1PSIDTS': PSIDTS }) } },
  );
  return t;
}

/** How the fault must end: a whole answer (maybe from the fallback), an error before any byte, or a
 * partial answer cut by a terminal error (never completed by another upstream). */
type Outcome = { answer: string } | { error: RegExp } | { partial: string; error: RegExp };

interface Fault {
  name: string;
  model: string;
  setup(): void;
  outcome: Outcome;
  /** Upper bound for the whole exchange, from the configured timeouts. */
  withinMs: number;
}

const faults: Fault[] = [
  { name: 'connection refused -> fallback', model: 'refused-model', setup() {}, outcome: { answer: 'from backup' }, withinMs: 2000 },
  { name: 'DNS failure, no fallback -> clear error', model: 'nodns-model', setup() {}, outcome: { error: /nodns|upstream\.invalid|ENOTFOUND|EAI_AGAIN|resolve/i }, withinMs: 3000 },
  { name: 'reset before the first byte -> fallback', model: 'gpt-4o', setup: () => (primary.handler = () => ({ reset: true })), outcome: { answer: 'from backup' }, withinMs: 2000 },
  {
    name: 'reset after the first byte -> terminal error, no splice',
    model: 'gpt-4o',
    setup: () => (primary.handler = () => ({ sse: [rawChunk({ content: 'partial ' }), { delayMs: 20 }, { reset: true }] })),
    outcome: { partial: 'partial ', error: /g4f/ },
    withinMs: 2000,
  },
  { name: 'stall before the first byte past fallback.timeout -> fallback', model: 'gpt-4o', setup: () => (primary.handler = () => ({ sse: [{ stall: true }] })), outcome: { answer: 'from backup' }, withinMs: 4000 },
  {
    name: 'stall after the first byte past the idle timeout -> terminal error',
    model: 'gpt-4o',
    setup: () => (primary.handler = () => ({ sse: [rawChunk({ content: 'start ' }), { stall: true }] })),
    outcome: { partial: 'start ', error: /timed out/ },
    withinMs: 3000,
  },
  {
    name: 'slow drip past the total timeout -> terminal error',
    model: 'gpt-4o',
    setup: () => (primary.handler = () => ({ sse: Array.from({ length: 60 }, () => [rawChunk({ content: 'd' }), { delayMs: 150 }]).flat() })),
    outcome: { partial: 'd', error: /within 4 s/ },
    withinMs: 6000,
  },
  {
    name: '429 with Retry-After -> waits and retries',
    model: 'gpt-4o',
    setup: () => (primary.handler = (_r, i) => (i % 2 === 0 ? { status: 429, headers: { 'retry-after': '1' }, json: { error: { message: 'slow down' } } } : { sse: textChunks('after the wait') })),
    outcome: { answer: 'after the wait' },
    withinMs: 3000,
  },
  { name: '5xx -> fallback', model: 'gpt-4o', setup: () => (primary.handler = () => ({ status: 503, json: { error: { message: 'overloaded' } } })), outcome: { answer: 'from backup' }, withinMs: 2000 },
  {
    name: 'malformed chunk after the first byte -> terminal error',
    model: 'gpt-4o',
    setup: () => (primary.handler = () => ({ sse: [rawChunk({ content: 'ok ' }), 'data: {not json\n\n'] })),
    outcome: { partial: 'ok ', error: /malformed/ },
    withinMs: 2000,
  },
  // Gemini: every error code the protocol notes list, a silent abort and a malformed frame.
  ...(
    [
      [1037, /limit|Gemini/i],
      [1060, /block|Gemini/i],
      [1052, /model/i],
      [1050, /model/i],
      [1013, /Gemini/i],
      [1099, /Gemini/i],
    ] as const
  ).map(([code, error]): Fault => ({ name: `Gemini error ${code}`, model: 'gemini-3-flash', setup: () => (gemini.reply = () => ({ error: code })), outcome: { error }, withinMs: 3000 })),
  { name: 'Gemini HTTP 500', model: 'gemini-3-flash', setup: () => (gemini.reply = () => ({ http: 500 })), outcome: { error: /Gemini|500/ }, withinMs: 3000 },
  {
    name: 'Gemini silent abort (no final answer) -> terminal error',
    model: 'gemini-3-flash',
    setup: () => (gemini.reply = () => ({ snapshots: [{ text: 'half an answer' }] })),
    outcome: { partial: 'half an answer', error: /silently aborted/ },
    withinMs: 3000,
  },
  {
    name: 'Gemini malformed frame -> clear error',
    model: 'gemini-3-flash',
    setup: () => (gemini.reply = () => ({ http: 200, headers: { 'content-type': 'application/json' }, body: ")]}'\n\n41\n[[\"wrb.fr\",null,\"[null,[\\\"c_1\\\",\\\"r_1\\\"],nul" })),
    outcome: { error: /Gemini/ },
    withinMs: 3000,
  },
  {
    name: 'Gemini stall after the first frame -> terminal error',
    model: 'gemini-3-flash',
    setup: () => (gemini.reply = () => ({ snapshots: [{ text: 'one two three' }, { text: 'one two three four five' }], final: { text: 'never' }, stallAfter: 3 })),
    outcome: { partial: 'one two three four five', error: /Gemini/ },
    withinMs: 4000,
  },
];

interface Parsed {
  status: number;
  text: string;
  error?: string;
  done: boolean;
}

/** OpenAI chat completions, streaming: content deltas, the terminal error or [DONE]. */
async function streamOpenAi(model: string): Promise<Parsed> {
  const res = await fetch(`${t!.gw.url}/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
  const body = await res.text();
  if (res.status !== 200) return { status: res.status, text: '', error: (JSON.parse(body) as { error: { message: string } }).error.message, done: false };
  let text = '';
  let error: string | undefined;
  for (const line of body.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const data = JSON.parse(line.slice(6)) as { error?: { message: string }; choices?: Array<{ delta?: { content?: string } }> };
    if (data.error) error = data.error.message;
    text += data.choices?.[0]?.delta?.content ?? '';
  }
  return { status: 200, text, error, done: body.trimEnd().endsWith('data: [DONE]') };
}

/** Anthropic messages, non-streaming: the whole message or an Anthropic error envelope. */
async function collectAnthropic(model: string): Promise<Parsed> {
  const res = await fetch(`${t!.gw.url}/v1/messages`, { method: 'POST', headers: { ...auth, 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }) });
  const json = (await res.json()) as { type: string; content?: Array<{ text?: string }>; error?: { type: string; message: string } };
  if (res.status !== 200) {
    expect(json.type).toBe('error');
    expect(typeof json.error?.type).toBe('string');
    return { status: res.status, text: '', error: json.error?.message, done: false };
  }
  return { status: 200, text: (json.content ?? []).map((b) => b.text ?? '').join(''), done: true };
}

async function settled(): Promise<void> {
  // Every request and every stream accounted for: the drain counter and the metric both at zero.
  await waitFor(async () => {
    if (inflightCount(t!.gw.app) !== 0) return false;
    const metrics = await (await fetch(`${t!.gw.url}/metrics`, { headers: auth })).text();
    return /^gateway_inflight_streams 0$/m.test(metrics);
  }, 1500);
}

let cases = 0;
describe('upstream faults', () => {
  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`faults: ${faults.length} faults x 2 clients, ${cases} cases passed`);
  });
  for (const fault of faults) {
    for (const [client, send] of [
      ['OpenAI stream', streamOpenAi],
      ['Anthropic non-stream', collectAnthropic],
    ] as const) {
      it(`${fault.name} (${client})`, async () => {
        await gateway();
        fault.setup();
        const started = Date.now();
        const got = await send(fault.model);
        expect(Date.now() - started, 'answered within the configured time').toBeLessThan(fault.withinMs);
        const o = fault.outcome;
        if ('answer' in o) {
          expect(got.status).toBe(200);
          expect(got.text, 'the whole answer of one upstream, nothing spliced').toBe(o.answer);
          expect(got.error).toBeUndefined();
          expect(got.done).toBe(true);
        } else if ('partial' in o && got.status === 200 && client === 'OpenAI stream') {
          // What the client saw is the upstream's partial text (or the part of it already reconciled).
          expect(got.text.length).toBeGreaterThan(0);
          expect(got.text.startsWith(o.partial) || o.partial.startsWith(got.text), got.text).toBe(true);
          expect(got.text).not.toContain('from backup');
          expect(got.error).toMatch(o.error);
          expect(got.done, 'no [DONE] after a failure').toBe(false);
        } else {
          // An error before the first byte, or a non-streaming client whose answer failed: an error
          // envelope with a 4xx/5xx status and no partial text passed off as a whole answer.
          // A stream already committed (keep-alives went out while the gateway retried) ends with
          // the error as its terminal event instead.
          if (got.status === 200 && client === 'OpenAI stream') expect(got.done).toBe(false);
          else expect(got.status).toBeGreaterThanOrEqual(400);
          expect(got.error).toMatch(o.error);
        }
        if (fault.model === 'gpt-4o' && 'partial' in o) expect(backup.chats, 'no fallback after the first byte').toHaveLength(0);
        await settled();
        cases++;
      }, fault.withinMs + 5000);
    }
  }
});

describe('clients', () => {
  it('a client that stops reading holds the upstream back instead of being buffered for', async () => {
    // An upstream that honours backpressure itself and counts what it managed to send: 64 MiB of
    // content in 16 KiB chunks, far more than the socket buffers on the way can hold.
    let sent = 0;
    const total = 64 * 1024 * 1024;
    const piece = `data: ${JSON.stringify(rawChunk({ content: 'x'.repeat(16 * 1024) }))}\n\n`;
    const big: Server = createHttpServer(async (req, res) => {
      for await (const _ of req);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      while (sent < total && !res.destroyed) {
        sent += piece.length;
        if (!res.write(piece)) await new Promise<void>((resolve) => {
          const done = () => (res.off('drain', done).off('close', done), resolve());
          res.on('drain', done).on('close', done);
        });
      }
      res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    await gateway(`http://127.0.0.1:${(big.address() as AddressInfo).port}`);
    try {
      // A raw socket that sends the request, reads the response head, then stops reading.
      const socket = connect(t!.gw.port, '127.0.0.1');
      const body = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await new Promise((r) => socket.once('data', r));
      socket.pause();
      await new Promise((r) => setTimeout(r, 1500));
      const stalledAt = sent;
      await new Promise((r) => setTimeout(r, 500));
      // Held back: the upstream got no further while the client did not read, and what it sent is
      // what the socket buffers on the way hold, not the whole answer.
      expect(sent, 'upstream kept sending while the client did not read').toBe(stalledAt);
      expect(sent).toBeLessThan(total / 2);
      // Reading again resumes the stream.
      socket.resume();
      await waitFor(() => sent > stalledAt, 2000, 20);
      socket.destroy();
      await settled();
    } finally {
      big.closeAllConnections();
      await new Promise<void>((r) => big.close(() => r()));
    }
  });

});

// A fake OpenAI-compatible upstream (real HTTP on loopback) for tests: scripted per request, with
// faults (status codes, Retry-After, resets before and after the first byte, stalls, malformed
// chunks) and a record of what it received and when connections closed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SseItem = string | Record<string, unknown> | { delayMs: number } | { reset: true } | { stall: true };

export type Behavior =
  | { status: number; headers?: Record<string, string>; json?: unknown; text?: string }
  | { sse: SseItem[]; headers?: Record<string, string> }
  | { reset: true };

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** performance.now() when the response (or the connection) closed. */
  closedAt?: number;
}

export class FakeUpstream {
  readonly received: Received[] = [];
  handler: (request: Received, index: number) => Behavior = () => ({ sse: textChunks('ok') });
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests to /chat/completions only. */
  get chats(): Received[] {
    return this.received.filter((r) => r.path.endsWith('/chat/completions'));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const received: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    this.received.push(received);
    res.on('close', () => (received.closedAt = performance.now()));
    const behavior = this.handler(received, this.received.length - 1);

    if ('reset' in behavior) return void req.socket.destroy();
    if ('status' in behavior) {
      res.writeHead(behavior.status, { 'content-type': behavior.json !== undefined ? 'application/json' : 'text/plain', ...behavior.headers });
      return void res.end(behavior.json !== undefined ? JSON.stringify(behavior.json) : (behavior.text ?? ''));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...behavior.headers });
    res.flushHeaders();
    for (const item of behavior.sse) {
      if (res.destroyed) return;
      if (typeof item === 'string') res.write(item);
      else if ('delayMs' in item) await new Promise((r) => setTimeout(r, item.delayMs as number));
      else if ('reset' in item) return void req.socket.destroy();
      else if ('stall' in item) return; // keep the connection open, send nothing more
      else res.write(`data: ${JSON.stringify(item)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }
}

let seq = 0;
const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: `chatcmpl-fake${seq++}`,
  object: 'chat.completion.chunk',
  created: 1,
  model: 'fake',
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

export const usageChunk = (prompt = 11, completion = 7) => ({ id: 'u', object: 'chat.completion.chunk', created: 1, model: 'fake', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });

/** A text answer split into pieces, with finish and usage. */
export function textChunks(text: string, pieces = 2): SseItem[] {
  const size = Math.ceil(text.length / pieces) || 1;
  const parts: SseItem[] = [chunk({ role: 'assistant', content: '' })];
  for (let i = 0; i < text.length; i += size) parts.push(chunk({ content: text.slice(i, i + size) }));
  parts.push(chunk({}, 'stop'), usageChunk());
  return parts;
}

/** A native tool call with its arguments in two fragments. */
export function toolCallChunks(name: string, args: Record<string, unknown>, id = 'call_fake1'): SseItem[] {
  const json = JSON.stringify(args);
  const cut = Math.floor(json.length / 2);
  return [
    chunk({ role: 'assistant', content: null }),
    chunk({ tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: json.slice(0, cut) } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: json.slice(cut) } }] }),
    chunk({}, 'tool_calls'),
    usageChunk(),
  ];
}

export { chunk as rawChunk };

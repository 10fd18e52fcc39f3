import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { drain } from '../src/http/lifecycle.js';
import { appFor, type TestApp } from './helpers/app.js';

const TOKEN = 'drain-token-0123456789';
let t: TestApp | undefined;
afterEach(async () => {
  t?.app.server.closeAllConnections();
  await t?.app.close();
  t = undefined;
});

/** An SSE-like route that sends `count` events `gapMs` apart. */
async function streamingApp(count: number, gapMs: number): Promise<{ t: TestApp; url: string }> {
  const app = await appFor(`auth:\n  bearer_token: ${TOKEN}\n`);
  app.app.get('/test/stream', (_request, reply) => {
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent === count) return void this.push(null);
        setTimeout(() => this.push(`data: ${sent++}\n\n`), sent === 0 ? 0 : gapMs);
      },
    });
    return reply.type('text/event-stream').send(body);
  });
  const address = await app.app.listen({ host: '127.0.0.1', port: 0 });
  return { t: app, url: address };
}

async function readAll(res: Response, onFirst: () => void): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let first = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (first) {
        first = false;
        onFirst();
      }
    }
  } catch {
    // connection cut: return what arrived
  }
  return text;
}

describe('streamed responses', () => {
  it('log time to first byte next to the total duration', async () => {
    const s = await streamingApp(3, 150);
    t = s.t;
    const res = await fetch(`${s.url}/test/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await res.text();
    await new Promise((r) => setTimeout(r, 20));
    const line = s.t.output.lines().find((l) => l.path === '/test/stream');
    expect(line).toMatchObject({ stream: true, status: 200 });
    expect(line!.ttfb_ms as number).toBeGreaterThanOrEqual(0);
    expect(line!.ttfb_ms as number).toBeLessThan(100);
    expect(line!.duration_ms as number).toBeGreaterThanOrEqual(290);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight stream finish and refuses new requests meanwhile', async () => {
    const s = await streamingApp(6, 100);
    t = s.t;
    const res = await fetch(`${s.url}/test/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
    let draining: Promise<{ forced: boolean; durationMs: number }> | undefined;
    const text = await readAll(res, () => {
      draining = drain(s.t.app, 5000);
    });
    expect(text).toBe([0, 1, 2, 3, 4, 5].map((i) => `data: ${i}\n\n`).join(''));
    const result = await draining!;
    expect(result.forced).toBe(false);
    expect(result.durationMs).toBeGreaterThanOrEqual(350);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
  });

  it('cuts streams that outlive the drain timeout, so the process always exits', async () => {
    const s = await streamingApp(100, 100);
    t = s.t;
    const res = await fetch(`${s.url}/test/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
    let draining: Promise<{ forced: boolean; durationMs: number }> | undefined;
    const text = await readAll(res, () => {
      draining = drain(s.t.app, 300);
    });
    const result = await draining!;
    expect(result.forced).toBe(true);
    expect(result.durationMs).toBeLessThan(1500);
    expect(text.startsWith('data: 0\n\n')).toBe(true);
    expect(text).not.toContain('data: 99');
  });
});

// A body over server.body_limit gets its 413 whether the client sends it in one go or slowly: the
// gateway answers early and reads (and drops) the rest, instead of closing a socket with unread
// input (a TCP reset that made the client's write fail with EPIPE before it could read the 413).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const TOKEN = 'body-limit-token-0123456789';
const SIZE = 50 * 1024 * 1024;
const body = Buffer.alloc(SIZE, 0x20);
let g: TestGateway;
beforeAll(async () => {
  g = await startTestGateway(`auth:\n  bearer_token: ${TOKEN}\ngemini:\n  enabled: false\ng4f:\n  enabled: false\n`);
});
afterAll(() => g.stop());

/** Send a 50 MB POST on a raw socket; resolve with what came back and any socket error. */
function post(path: string, mode: 'fast' | 'slow'): Promise<{ response: string; error: string | null }> {
  const { port } = new URL(g.gw.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    let error: string | null = null;
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => resolve({ response, error }));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${SIZE}\r\n\r\n`);
    if (mode === 'fast') {
      socket.end(body);
      return;
    }
    let sent = 0;
    const step = (): void => {
      if (socket.destroyed) return;
      const chunk = body.subarray(sent, sent + 1024 * 1024);
      sent += chunk.length;
      if (sent >= SIZE) socket.end(chunk);
      else socket.write(chunk, () => setTimeout(step, 5));
    };
    step();
  });
}

describe('an oversized body', () => {
  it('sent in one go always gets its 413, in the protocol envelope, without a reset', async () => {
    for (let i = 0; i < 5; i++) {
      const { response, error } = await post('/v1/chat/completions', 'fast');
      expect(response.split('\r\n')[0], `attempt ${i}`).toBe('HTTP/1.1 413 Payload Too Large');
      expect(response).toContain('"code":"request_too_large"');
      expect(error, `attempt ${i}`).toBeNull();
    }
    const anthropic = await post('/v1/messages', 'fast');
    expect(anthropic.response).toContain('"type":"request_too_large"');
    expect(anthropic.error).toBeNull();
  }, 60_000);

  it('sent slowly gets its 413 too', async () => {
    const { response, error } = await post('/v1/chat/completions', 'slow');
    expect(response.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(error).toBeNull();
  }, 60_000);
});

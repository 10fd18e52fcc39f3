// The chat upstream call on undici's dispatch API: body read in batches, backpressure, abort, errors.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { HIGH_WATER, UpstreamCall } from '../../src/net/upstream-call.js';

let server: Server | undefined;
const agent = new Agent();

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    handler(res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const call = (origin: string) => new UpstreamCall(agent, { origin, path: '/chat', method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });

async function readAll(c: UpstreamCall): Promise<{ text: string; reads: number }> {
  let text = '';
  let reads = 0;
  for (let chunks = await c.read(); chunks; chunks = await c.read()) {
    reads++;
    for (const chunk of chunks) text += chunk.toString();
  }
  return { text, reads };
}

describe('UpstreamCall', () => {
  it('gives status and headers, then the whole body, then null', async () => {
    const origin = await serve((res) => {
      res.writeHead(201, { 'content-type': 'text/event-stream', 'x-extra': 'yes' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 20);
    });
    const c = call(origin);
    const head = await c.response();
    expect(head.status).toBe(201);
    expect(head.headers['x-extra']).toBe('yes');
    expect((await readAll(c)).text).toBe('data: one\n\ndata: two\n\n');
    expect(await c.read()).toBeNull();
    expect(c.finished).toBe(true);
  });

  it('hands over every chunk queued since the last read in one step', async () => {
    const origin = await serve((res) => {
      res.writeHead(200);
      let i = 0;
      const timer = setInterval(() => (i < 20 ? res.write(`chunk ${i++}\n`) : (clearInterval(timer), res.end())), 2);
    });
    const c = call(origin);
    await c.response();
    await new Promise((r) => setTimeout(r, 150)); // the server is done: its chunks are queued
    const { text, reads } = await readAll(c);
    expect(text.split('\n').filter(Boolean)).toHaveLength(20);
    expect(reads).toBeLessThan(5);
  });

  it('pauses the socket when the reader falls behind, and resumes when it reads', async () => {
    const total = 8 * 1024 * 1024;
    let written = 0;
    const origin = await serve((res) => {
      res.writeHead(200);
      const piece = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (written < total) {
          written += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const c = call(origin);
    await c.response();
    await new Promise((r) => setTimeout(r, 300));
    // Not read for 300 ms: the queue stops near the high-water mark (one network read past it at most).
    expect(c.bufferedBytes).toBeLessThanOrEqual(HIGH_WATER + 256 * 1024);
    expect(written).toBeLessThan(total);
    let received = 0;
    for (let chunks = await c.read(); chunks; chunks = await c.read()) for (const chunk of chunks) received += chunk.length;
    expect(received).toBe(total);
  });

  it('an abort before the answer rejects the response with its reason', async () => {
    const origin = await serve(() => undefined); // never answers
    const c = call(origin);
    const reason = new Error('client left');
    setTimeout(() => c.abort(reason), 20);
    await expect(c.response()).rejects.toBe(reason);
  });

  it('an abort mid-body rejects the pending read with its reason', async () => {
    const origin = await serve((res) => {
      res.writeHead(200);
      res.write('data: partial\n\n');
    });
    const c = call(origin);
    await c.response();
    expect((await c.read())!.map(String).join('')).toBe('data: partial\n\n');
    const reason = new Error('timeout');
    setTimeout(() => c.abort(reason), 20);
    await expect(c.read()).rejects.toBe(reason);
  });

  it('a refused connection rejects the response with the transport error', async () => {
    const origin = await serve(() => undefined);
    const { port } = server!.address() as AddressInfo;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const c = call(`http://127.0.0.1:${port}`);
    await expect(c.response()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(c.read()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(origin).toContain(String(port));
  });
});

// An early answer (413 for an oversized body, 401 or 415 before the body was read) used to close
// the connection while the client was still sending. Closing a socket with unread input sends a
// TCP reset, which can wipe the answer from the client's receive buffer: the client saw EPIPE and
// never read its 413. So the connection stays open instead: Node reads the rest of the body and
// drops it (nothing is buffered), and a body still arriving `maxMs` after the answer is cut off.

import type { FastifyReply, FastifyRequest } from 'fastify';

export function answerBeforeBody(request: FastifyRequest, reply: FastifyReply, maxMs = 10_000): void {
  // Fastify asks for `connection: close` after a body error; Node's keep-alive handling drains instead.
  reply.removeHeader('connection');
  const req = request.raw;
  reply.raw.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), maxMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.socket.once('close', () => clearTimeout(timer));
  });
}

// The floor of the libraries the gateway is built on: the same pass-through as minimal-proxy.ts, but
// Fastify receives the request (body read as a Buffer, no parsing) and undici sends it upstream; the
// answer is piped back untouched. Whatever the gateway spends above this is its own work.
// Usage: node stack-proxy.js <port> <upstream port>
import Fastify from 'fastify';
import { Agent, request } from 'undici';

const port = Number(process.argv[2]);
const upstream = `http://127.0.0.1:${Number(process.argv[3])}`;
const dispatcher = new Agent({ connections: 256 });
const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/v1/chat/completions', async (req, reply) => {
  const answer = await request(`${upstream}${req.url}`, { method: 'POST', body: req.body as Buffer, headers: { 'content-type': 'application/json' }, dispatcher });
  reply.code(answer.statusCode).header('content-type', String(answer.headers['content-type'] ?? 'application/json'));
  return reply.send(answer.body);
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write('ready\n');

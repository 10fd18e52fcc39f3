// Fastify's schema compilers are loaded on first use (src/http/schema-compilers.ts): a route with
// a schema still validates its input and serializes its output as with Fastify's defaults.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from '../../src/http/schema-compilers.js';

describe('lazy schema compilers', () => {
  it('validate bodies and serialize responses of routes that declare schemas', async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazySchemaCompilers() as never } });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', required: ['n'], properties: { n: { type: 'integer', minimum: 1 } } },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      async (request) => ({ n: (request.body as { n: number }).n, secret: 'dropped by the response schema' }),
    );
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { n: 3 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ n: 3 });
    const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 0 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('body/n must be >= 1');
    await app.close();
  });
});

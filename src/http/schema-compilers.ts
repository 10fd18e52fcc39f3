// Fastify requires its JSON Schema compilers (@fastify/ajv-compiler with ajv, fast-json-stringify)
// whenever an app is created, though no route of the gateway declares a schema: some 400 KB of
// code evaluated at every start for nothing. These factories hand Fastify its own compilers,
// required on first use (a route with a schema), so a route that has one works as before.
// scripts/bundle.mjs rewrites the requires below into plain require() calls it can bundle.

import { createRequire } from 'node:module';

type Factory = (...args: unknown[]) => unknown;

// They are Fastify's dependencies, not ours: resolve them from Fastify's location.
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** A fresh pair per app, as Fastify builds one per instance (each keeps its own compiler cache). */
export function lazySchemaCompilers(): { buildValidator: Factory; buildSerializer: Factory } {
  let validator: Factory | undefined;
  let serializer: Factory | undefined;
  return {
    buildValidator: (...args) => (validator ??= (fastifyRequire('@fastify/ajv-compiler') as () => Factory)())(...args),
    buildSerializer: (...args) => (serializer ??= (fastifyRequire('@fastify/fast-json-stringify-compiler') as () => Factory)())(...args),
  };
}

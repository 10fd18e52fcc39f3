// POST /v1/images/generations and /v1/images/edits (OpenAI Images API) on a provider offering
// `imageGeneration` (Gemini web: one chat turn per image). Edits take multipart/form-data as
// the SDKs send it, or JSON with base64 images.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/gateway-error.js';
import { capability, type ProviderRegistry } from '../../core/provider.js';
import { decodeImagesRequest, parseMultipart } from './decode.js';
import { encodeImages } from './encode.js';

export function registerImagesRoutes(app: FastifyInstance, providers: ProviderRegistry): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, body, done) => {
      try {
        done(null, parseMultipart(body as Buffer, String(request.headers['content-type'])));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    for (const [path, edit] of [['/v1/images/generations', false], ['/v1/images/edits', true]] as const) {
      scope.post(path, { config: { protocol: 'openai' } }, async (request, reply) => {
        const images = decodeImagesRequest(request.body, edit);
        request.ctx.model = images.model ?? 'default';
        const generator = capability(providers, 'imageGeneration');
        if (!generator?.serves(images.model)) {
          throw new GatewayError('invalid_request', `No enabled upstream makes images${images.model ? ` with model ${images.model}` : ''} (Gemini web models do)`, { code: 'model_not_supported' });
        }
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        const generated = await generator.generate(
          { ...(images.model ? { model: images.model } : {}), prompt: images.prompt, n: images.n, ...(edit ? { images: images.images } : {}) },
          { signal: abort.signal, log: request.log, requestId: request.id, origin: originOf(request) },
        );
        request.ctx.provider = 'gemini';
        return reply.send(encodeImages(generated, images));
      });
    }
  });
}

/** The origin the client used to reach us (the `url` answers must work from the client's side). */
function originOf(request: FastifyRequest): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const protocol = typeof forwarded === 'string' && forwarded ? forwarded.split(',')[0]!.trim() : request.protocol;
  return `${protocol}://${request.headers['x-forwarded-host'] ?? request.host}`;
}

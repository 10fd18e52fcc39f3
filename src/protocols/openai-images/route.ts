// POST /v1/images/generations and /v1/images/edits (OpenAI Images API) on a provider offering
// `imageGeneration` (Gemini web: one chat turn per image). Edits take multipart/form-data as
// the SDKs send it, or JSON with base64 images.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/gateway-error.js';
import { capability, type ImageGeneration, type Provider, type ProviderRegistry } from '../../core/provider.js';
import type { GatewayConfig } from '../../config/schema.js';
import { decodeImagesRequest, parseMultipart } from './decode.js';
import { encodeImages } from './encode.js';

/** The model's routes (routing: exact, alias, glob, default, fallbacks), as the chat pipeline plans them. */
export type PlanRoutes = (model: string, config: GatewayConfig) => ReadonlyArray<{ provider: Provider; upstreamModel: string }>;

export function registerImagesRoutes(app: FastifyInstance, providers: ProviderRegistry, plan: PlanRoutes): void {
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
        // The model routes like a chat model (aliases, globs, fallbacks); the first route whose
        // upstream makes images serves it. No model: the first upstream that makes images.
        let generator: ImageGeneration | undefined;
        let upstreamModel: string | undefined;
        let providerId: string | undefined;
        if (images.model) {
          const route = plan(images.model, request.ctx.snapshot.config).find((r) => r.provider.imageGeneration);
          if (route) [generator, upstreamModel, providerId] = [route.provider.imageGeneration, route.upstreamModel, route.provider.id];
        } else {
          generator = capability(providers, 'imageGeneration');
          providerId = providers.list().find((p) => p.imageGeneration)?.id;
        }
        if (!generator) {
          throw new GatewayError('invalid_request', `No enabled upstream makes images${images.model ? ` with model ${images.model}` : ''}: use a Gemini web model`, { code: 'model_not_supported', param: 'model' });
        }
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        const generated = await generator.generate(
          { ...(upstreamModel ? { model: upstreamModel } : {}), prompt: images.prompt, n: images.n, ...(edit ? { images: images.images } : {}) },
          { signal: abort.signal, log: request.log, requestId: request.id, origin: originOf(request) },
        );
        if (providerId) request.ctx.provider = providerId;
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

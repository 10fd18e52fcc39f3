// GET /images/<token>: generated images behind short-lived signed links (public: markdown viewers
// load them without our token; the signature and expiry are the protection).

import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/gateway-error.js';
import { capability, type ProviderRegistry } from '../core/provider.js';

export function registerImageRoutes(app: FastifyInstance, providers: ProviderRegistry): void {
  app.get<{ Params: { token: string } }>('/images/:token', { config: { access: 'public' } }, async (request, reply) => {
    const source = capability(providers, 'imageLinks');
    if (!source) throw new GatewayError('not_found', 'No image source is enabled', { code: 'image_link_invalid' });
    const image = await source.fetchImage(request.params.token);
    if (image.status !== 200) throw new GatewayError('upstream_unavailable', `The image could not be fetched (HTTP ${image.status})`, { code: 'image_fetch_failed' });
    return reply.header('content-type', image.type).header('cache-control', 'private, max-age=3600').send(image.body);
  });
}

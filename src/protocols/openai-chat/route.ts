// POST /v1/chat/completions.

import type { FastifyInstance } from 'fastify';
import type { ServeChat } from '../encoder.js';
import { isObject } from '../validate.js';
import { decodeChatRequest } from './decode.js';
import { chatAdapter } from './encode.js';

const WITH_USAGE = chatAdapter(true);
const WITHOUT_USAGE = chatAdapter(false);

export function registerChatRoutes(app: FastifyInstance, serve: ServeChat): void {
  app.post('/v1/chat/completions', { config: { protocol: 'openai' } }, async (request, reply) => {
    const chat = decodeChatRequest(request.body);
    const body = request.body as Record<string, unknown>;
    const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
    return serve(request, reply, chat, includeUsage ? WITH_USAGE : WITHOUT_USAGE);
  });
}

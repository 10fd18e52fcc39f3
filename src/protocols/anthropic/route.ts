// POST /v1/messages and POST /v1/messages/count_tokens (Anthropic protocol). `?beta=true` and
// anthropic-beta headers are tolerated; streaming is decided by the body, never by Accept.

import type { FastifyInstance } from 'fastify';
import { countRequestTokens } from '../../core/tokens.js';
import type { ServeChat } from '../encoder.js';
import { array, invalid, nonEmptyString, object } from '../validate.js';
import { decodeAnthropicRequest, type DecodeNotes } from './decode.js';
import { anthropicAdapter } from './encode.js';

export function registerAnthropicRoutes(app: FastifyInstance, serve: ServeChat): void {
  app.post('/v1/messages', { config: { protocol: 'anthropic' } }, async (request, reply) => {
    const notes: DecodeNotes = { dropped: [] };
    const chat = decodeAnthropicRequest(request.body, request.headers, notes);
    if (notes.dropped.length > 0) request.log.debug({ dropped: notes.dropped }, 'ignored request parts');
    return serve(request, reply, chat, anthropicAdapter);
  });

  app.post('/v1/messages/count_tokens', { config: { protocol: 'anthropic' } }, async (request) => {
    const body = object(request.body, 'body');
    nonEmptyString(body.model, 'model');
    array(body.messages, 'messages');
    // count_tokens has no max_tokens; decode with a placeholder so the same decoder validates it.
    const chat = decodeAnthropicRequest({ ...body, max_tokens: 1, stream: false }, request.headers);
    if (chat.messages.length === 0 && chat.system.length === 0 && chat.tools.length === 0) throw invalid('messages', 'must not be empty');
    return { input_tokens: await countRequestTokens(chat) };
  });
}

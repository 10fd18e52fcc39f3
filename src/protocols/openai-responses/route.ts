// POST /v1/responses (Codex speaks only this), and GET /v1/responses answering a WebSocket
// upgrade with 426 so Codex's built-in provider falls back to HTTP.

import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../core/gateway-error.js';
import type { ServeChat } from '../encoder.js';
import { decodeResponsesRequest } from './decode.js';
import { responsesAdapter } from './encode.js';
import type { Message } from '../../core/types.js';
import type { TtlStore } from '../../state/ttl-store.js';

export function registerResponsesRoutes(app: FastifyInstance, serve: ServeChat, store: TtlStore<Message[]>): void {
  app.post('/v1/responses', { config: { protocol: 'openai' } }, async (request, reply) => {
    const { chat, extras } = decodeResponsesRequest(request.body);
    if (extras.dropped.length > 0) request.log.debug({ dropped: extras.dropped }, 'ignored request parts');
    if (extras.previousResponseId) {
      const history = await store.get(extras.previousResponseId);
      if (!history) {
        throw new GatewayError('not_found', `Previous response with id '${extras.previousResponseId}' not found.`, {
          param: 'previous_response_id',
          code: 'previous_response_not_found',
        });
      }
      chat.messages = [...history, ...chat.messages];
    }
    const conversation = chat.messages;
    const adapter = responsesAdapter(extras, extras.store ? (id, output) => void store.set(id, [...conversation, output]) : undefined);
    return serve(request, reply, chat, adapter);
  });

  app.get('/v1/responses', { config: { protocol: 'openai' } }, async (request) => {
    if (String(request.headers.upgrade ?? '').toLowerCase() === 'websocket') {
      throw new GatewayError('upgrade_required', 'WebSocket transport is not supported: use HTTP POST /v1/responses', { code: 'websocket_not_supported' });
    }
    throw new GatewayError('invalid_request', 'Use POST /v1/responses', { code: 'method_not_allowed' });
  });
}

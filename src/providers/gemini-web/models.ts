// Which Gemini model a request asks for, as the web app says it: the model selector header built
// from `gemini.model_header` with the model's id. Ids come from `gemini.model_map`; a stale one is
// replaced by the id the account lists under the same display name (otAQ7b).

import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { GeminiSession } from './session.js';

type GeminiConfig = GatewayConfig['gemini'];

export function modelHeaders(session: GeminiSession, model: string, config: GeminiConfig): Record<string, string> {
  const entry = config.model_map[model];
  if (!entry) {
    if (!/^[0-9a-f]{16}$/.test(model)) throw new GatewayError('invalid_request', `No Gemini model id for \`${model}\`: add it to gemini.model_map`, { code: 'model_invalid', param: 'model' });
  }
  let id = entry?.id ?? model;
  if (entry?.display && session.models.length > 0 && !session.models.some((m) => m.id === id)) {
    const discovered = session.models.find((m) => m.display.toLowerCase() === entry.display!.toLowerCase());
    if (discovered) id = discovered.id;
  }
  const header = config.model_header.replace('{id}', id).replace('{capacity}', String(session.capacity));
  return { 'x-goog-ext-525001261-jspb': header, ...config.model_extra_headers };
}

// Which Gemini model a request asks for, as the web app says it. A name resolves through
// `gemini.model_aliases` (names older configs use) to a `gemini.model_map` entry: its id, the
// versioned name the account lists it under, its model number and thinking mode. The account's own
// list (otAQ7b) wins where it shows another id under that name (ids drift). The header and the
// payload's model slots are filled from it; both shapes are config data (`model_header`, `request`).

import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/gateway-error.js';
import type { DiscoveredModel, GeminiSession } from './session.js';

type GeminiConfig = GatewayConfig['gemini'];

export interface ResolvedModel {
  /** The model-map name it resolved to (after aliases). */
  name: string;
  id: string;
  display: string | undefined;
  number: number;
  /** 1 standard, 2 extended thinking (header idx15, payload [80]). */
  thinking: 1 | 2;
}

/** "gemini-3.7-flash-extended" -> "3.7 flash" (to find a model the map does not name in the account's list). */
function displayGuess(name: string): string {
  return name.replace(/^gemini-/, '').replace(/-extended$/, '').replace(/-/g, ' ').toLowerCase();
}

const sameName = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

export function resolveModel(model: string, config: GeminiConfig, listed: DiscoveredModel[]): ResolvedModel {
  const name = config.model_map[model] ? model : (config.model_aliases[model] ?? model);
  const entry = config.model_map[name];
  const thinking = entry?.thinking === 'extended' || /-extended$/.test(name) ? 2 : 1;
  if (entry) {
    let id = entry.id;
    let number = entry.number;
    if (entry.display && listed.length > 0 && !listed.some((m) => m.id === id)) {
      const found = listed.find((m) => sameName(m.display, entry.display) || sameName(m.category, entry.display));
      if (found) id = found.id;
    }
    number ??= listed.find((m) => m.id === id)?.number ?? 1;
    return { name, id, display: entry.display, number, thinking };
  }
  if (/^[0-9a-f]{16}$/.test(model)) return { name: model, id: model, display: undefined, number: listed.find((m) => m.id === model)?.number ?? 1, thinking: 1 };
  // Not in the map: the account's own list may carry it under its versioned name ("3.7 Flash").
  const found = listed.find((m) => sameName(m.display, displayGuess(name)));
  if (found) return { name, id: found.id, display: found.display, number: found.number, thinking };
  const known = listed.map((m) => m.display).filter(Boolean);
  throw new GatewayError('not_found', `No Gemini model id for \`${model}\`: add it to gemini.model_map${known.length ? ` (this account lists: ${known.join(', ')})` : ''}`, {
    code: 'model_not_found',
    param: 'model',
  });
}

export function modelHeaders(session: GeminiSession, model: ResolvedModel, config: GeminiConfig): Record<string, string> {
  const header = config.model_header
    .replace('{id}', model.id)
    .replace('{capacity}', String(session.capacity))
    .replace('{number}', String(model.number))
    .replace('{thinking}', String(model.thinking))
    .replace('{uuid}', session.uuid);
  return { 'x-goog-ext-525001261-jspb': header, ...config.model_extra_headers };
}

/** Names in `gemini.models` the gateway cannot map to a model id: warned about at start-up, reload and check-config. */
export function unmappedModels(config: GeminiConfig): string[] {
  return config.models.filter((m) => !config.model_map[m] && !config.model_map[config.model_aliases[m] ?? ''] && !/^[0-9a-f]{16}$/.test(m));
}

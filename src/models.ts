// The model names the config makes routable, for the model-list endpoints. Glob entries
// (`deepseek-*`) route requests but are not listable names, so they are left out here.

import type { GatewayConfig } from './config/schema.js';
import type { ModelInfo } from './core/types.js';

const isGlob = (name: string) => /[*?[]/.test(name);

export function configuredModels(config: GatewayConfig): ModelInfo[] {
  const out: ModelInfo[] = [];
  const seen = new Set<string>();
  const add = (provider: string, names: string[]) => {
    for (const id of names) {
      if (isGlob(id) || seen.has(id)) continue;
      seen.add(id);
      out.push({ id, provider });
    }
  };
  if (config.gemini.enabled) add('gemini', config.gemini.models);
  if (config.g4f.enabled) add('g4f', config.g4f.models);
  return out;
}

// Model name -> the provider that serves it. This is the minimal rule set (exact names of an
// enabled provider, then its globs); aliases, defaults and fallback chains build on it.

import type { GatewayConfig } from './config/schema.js';
import { GatewayError } from './core/gateway-error.js';
import type { Provider, ProviderRegistry } from './providers/provider.js';

export interface Route {
  provider: Provider;
  /** The model id sent upstream (the requested name: real names pass through). */
  upstreamModel: string;
}

const globCache = new Map<string, RegExp>();

export function globMatch(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(name);
}

/** Provider ids with their model lists, in precedence order, from the config. */
function candidates(config: GatewayConfig): Array<{ id: string; models: string[] }> {
  const out: Array<{ id: string; models: string[] }> = [];
  if (config.gemini.enabled) out.push({ id: 'gemini', models: config.gemini.models });
  if (config.g4f.enabled) out.push({ id: 'g4f', models: config.g4f.models });
  return out;
}

export class Router {
  constructor(private readonly providers: ProviderRegistry) {}

  resolve(model: string, config: GatewayConfig): Route {
    const lists = candidates(config);
    const id =
      lists.find((c) => c.models.includes(model))?.id ?? lists.find((c) => c.models.some((m) => globMatch(m, model)))?.id;
    if (!id) {
      throw new GatewayError('not_found', `The model \`${model}\` does not exist or is not served by this gateway`, {
        code: 'model_not_found',
        param: 'model',
      });
    }
    const provider = this.providers.get(id);
    if (!provider) {
      throw new GatewayError('upstream_unavailable', `The upstream for \`${model}\` (${id}) is not available`, { code: 'upstream_unavailable' });
    }
    return { provider, upstreamModel: model };
  }
}

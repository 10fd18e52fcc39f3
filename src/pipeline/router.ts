// Model name -> provider. A requested name resolves, in order: exact model of an enabled provider,
// alias (`routing.aliases`, exact keys before globs), glob of a provider, `routing.default_model`.
// Real names pass through unchanged unless an alias says otherwise. `plan()` adds the fallback
// chain (`routing.fallbacks`) the serving pipeline tries when a route fails before any output.
// Each planned Route carries the policy the pipeline applies to it (tool emulation, retries), so
// nothing downstream asks which kind of upstream it is talking to.

import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../core/gateway-error.js';
import { globMatch, isGlob } from '../core/glob.js';
import type { ModelInfo } from '../core/types.js';
import type { Provider, ProviderRegistry } from '../core/provider.js';
import { upstream as upstreamSpec, upstreams, type RetryPolicy, type UpstreamSpec } from '../providers/catalog.js';

export type RouteVia = 'exact' | 'alias' | 'glob' | 'default' | 'fallback';

export interface Route {
  provider: Provider;
  /** The model id sent upstream. */
  upstreamModel: string;
  via: RouteVia;
  /** Tools go to the model as text (src/tools/): providers without native tools, text-only models. */
  emulateTools: boolean;
  retry: RetryPolicy;
}

type Source = Pick<UpstreamSpec, 'id' | 'models' | 'aliases'>;

/** Enabled upstreams and their model lists, in precedence order. */
export function modelSources(config: GatewayConfig): readonly Source[] {
  return upstreams(config);
}

function firstMatch<T>(record: Record<string, T>, name: string): T | undefined {
  if (Object.hasOwn(record, name)) return record[name];
  for (const [pattern, value] of Object.entries(record)) if (isGlob(pattern) && globMatch(pattern, name)) return value;
  return undefined;
}

/** What a request needs from its upstream beyond a model name. */
export interface RouteNeeds {
  /** The request offers a hosted web search tool: only upstreams that search themselves can serve it. */
  webSearch?: boolean;
}

export class Router {
  constructor(private readonly providers: ProviderRegistry) {}

  /**
   * Primary route plus fallbacks, each resolved; routes whose provider is not running are skipped.
   * A request offering web search keeps only routes that can search; with none it goes to
   * `routing.web_search_model`, or is refused (400 web_search_unsupported), never served without it.
   */
  plan(model: string, config: GatewayConfig, needs: RouteNeeds = {}): Route[] {
    const routes = this.planModel(model, config);
    if (!needs.webSearch) return routes;
    const searching = routes.filter((r) => r.provider.capabilities.webSearch);
    if (searching.length > 0) return searching;
    const searchModel = config.routing.web_search_model;
    if (searchModel) {
      const rerouted = this.planModel(searchModel, config).filter((r) => r.provider.capabilities.webSearch);
      if (rerouted.length > 0) return rerouted;
      throw new GatewayError('invalid_request', `routing.web_search_model \`${searchModel}\` is not served by an upstream that can search the web (a Gemini model)`, { code: 'web_search_unsupported', param: 'tools' });
    }
    throw new GatewayError(
      'invalid_request',
      `The model \`${model}\` cannot search the web (${routes[0]!.provider.id}): web search needs a Gemini model; set routing.web_search_model, or leave the web search tool out of the request`,
      { code: 'web_search_unsupported', param: 'tools' },
    );
  }

  private planModel(model: string, config: GatewayConfig): Route[] {
    const primary = this.resolveName(model, config);
    if (!primary) throw this.notFound(model, config);
    const chain = [primary, ...(firstMatch(config.routing.fallbacks, model) ?? firstMatch(config.routing.fallbacks, primary.model) ?? [])
      .map((name) => this.direct(name, config, 'fallback'))
      .filter((r): r is NonNullable<typeof r> => r !== undefined)];

    const routes: Route[] = [];
    const seen = new Set<string>();
    for (const step of chain) {
      const key = `${step.providerId}\u0000${step.model}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const provider = this.providers.get(step.providerId);
      const spec = upstreamSpec(config, step.providerId);
      if (provider && spec) routes.push({ provider, upstreamModel: step.model, via: step.via, emulateTools: needsToolEmulation(provider, spec, step.model), retry: spec.retry });
    }
    if (routes.length === 0) {
      throw new GatewayError('upstream_unavailable', `The upstream for \`${model}\` (${primary.providerId}) is not available`, { code: 'upstream_unavailable' });
    }
    return routes;
  }

  /** Every name a client may ask for (exact models, discovered models, exact alias keys). */
  listModels(config: GatewayConfig): ModelInfo[] {
    const out: ModelInfo[] = [];
    const seen = new Set<string>();
    const add = (id: string, provider: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      out.push({ id, provider });
    };
    for (const source of modelSources(config)) {
      for (const name of this.exactNames(source)) add(name, source.id);
    }
    for (const alias of Object.keys(config.routing.aliases)) {
      if (isGlob(alias)) continue;
      const target = this.resolveName(alias, config);
      if (target) add(alias, target.providerId);
    }
    return out;
  }

  private resolveName(model: string, config: GatewayConfig): { providerId: string; model: string; via: RouteVia } | undefined {
    const sources = modelSources(config);
    const exact = sources.find((s) => this.exactNames(s).includes(model));
    if (exact) return { providerId: exact.id, model, via: 'exact' };
    const alias = firstMatch(config.routing.aliases, model);
    if (alias !== undefined) {
      const target = this.direct(alias, config, 'alias');
      if (target) return target;
    }
    const legacy = this.legacy(model, sources);
    if (legacy) return { ...legacy, via: 'alias' };
    const glob = sources.find((s) => s.models.some((m) => isGlob(m) && globMatch(m, model)));
    if (glob) return { providerId: glob.id, model, via: 'glob' };
    if (config.routing.default_model) return this.direct(config.routing.default_model, config, 'default');
    return undefined;
  }

  /** Exact or glob match without aliases (alias targets, fallbacks and defaults do not chain). */
  private direct(model: string, config: GatewayConfig, via: RouteVia): { providerId: string; model: string; via: RouteVia } | undefined {
    const sources = modelSources(config);
    const source = sources.find((s) => this.exactNames(s).includes(model)) ?? sources.find((s) => s.models.some((m) => isGlob(m) && globMatch(m, model)));
    if (source) return { providerId: source.id, model, via };
    const legacy = this.legacy(model, sources);
    return legacy ? { ...legacy, via } : undefined;
  }

  /** A name an upstream still answers to without listing it (`gemini.model_aliases`); the provider maps it. */
  private legacy(model: string, sources: readonly Source[]): { providerId: string; model: string } | undefined {
    const source = sources.find((s) => s.aliases && Object.hasOwn(s.aliases, model));
    return source ? { providerId: source.id, model } : undefined;
  }

  private exactNames(source: Source): string[] {
    const known = this.providers.get(source.id)?.knownModels?.() ?? [];
    const exact = source.models.filter((m) => !isGlob(m));
    return known.length > 0 ? [...exact, ...known] : exact;
  }

  private notFound(model: string, config: GatewayConfig): GatewayError {
    const names = this.listModels(config).map((m) => m.id);
    const closest = names
      .map((name) => ({ name, distance: distance(model.toLowerCase(), name.toLowerCase()) }))
      .filter((c) => c.distance <= Math.max(3, Math.floor(model.length / 2)))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, 3)
      .map((c) => c.name);
    const hint = closest.length > 0 ? ` Closest: ${closest.join(', ')}.` : names.length > 0 ? ` Available: ${names.slice(0, 8).join(', ')}.` : '';
    return new GatewayError('not_found', `The model \`${model}\` does not exist or is not served by this gateway.${hint}`, {
      code: 'model_not_found',
      param: 'model',
      details: { closest },
    });
  }
}

/** Upstreams without native tool calling, and models configured as text-only, get emulated tools. */
function needsToolEmulation(provider: Provider, spec: UpstreamSpec, model: string): boolean {
  return !provider.capabilities.nativeTools || spec.textOnlyModels.some((pattern) => globMatch(pattern, model));
}

/** Levenshtein distance (model names are short). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

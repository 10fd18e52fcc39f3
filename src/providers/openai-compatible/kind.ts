// g4f and every `openai_compatible[]` entry as catalog entries: one OpenAICompatibleProvider each.

import type { GatewayConfig } from '../../config/schema.js';
import { mask as maskValue } from '../../secrets.js';
import type { ProviderKind, UpstreamSpec } from '../catalog.js';
import { OpenAICompatibleProvider, type OpenAICompatibleSettings } from './provider.js';

type Upstream = GatewayConfig['openai_compatible'][number];
type Section = Omit<Upstream, 'name' | 'enabled' | 'api_key'>;

export function settingsFor(id: string, upstream: Section, headers: Record<string, string>): OpenAICompatibleSettings {
  const t = upstream.timeouts;
  return {
    id,
    baseUrl: upstream.base_url,
    headers: { ...upstream.headers, ...headers },
    models: upstream.models,
    discoverModels: upstream.discover_models,
    proxy: upstream.proxy,
    timeouts: {
      connectMs: t.connect * 1000,
      firstByteMs: (t.first_byte ?? upstream.fallback.timeout) * 1000,
      idleMs: t.idle * 1000,
      totalMs: t.total * 1000,
    },
  };
}

function spec(settings: OpenAICompatibleSettings, section: Section): UpstreamSpec {
  return {
    id: settings.id,
    models: section.models,
    textOnlyModels: section.text_only_models,
    retry: { enabled: section.fallback.enabled, maxRetries: section.fallback.max_retries },
    key: JSON.stringify(settings),
    create: () => new OpenAICompatibleProvider(settings),
  };
}

export const openAICompatibleKind: ProviderKind = {
  upstreams(config) {
    const out: UpstreamSpec[] = [];
    if (config.g4f.enabled) {
      // g4f takes its own key in g4f-api-key: a Bearer token would be passed on to g4f's upstream.
      const settings = settingsFor('g4f', config.g4f, config.g4f.api_key ? { 'g4f-api-key': config.g4f.api_key } : {});
      settings.providerPinning = config.g4f.provider_pinning;
      out.push(spec(settings, config.g4f));
    }
    for (const upstream of config.openai_compatible) {
      if (!upstream.enabled) continue;
      out.push(spec(settingsFor(upstream.name, upstream, upstream.api_key ? { authorization: `Bearer ${upstream.api_key}` } : {}), upstream));
    }
    return out;
  },
  secrets: (config) => [config.g4f.api_key, ...config.openai_compatible.map((u) => u.api_key)],
  urls: (config) => [config.g4f.proxy, ...config.openai_compatible.map((u) => u.proxy)],
  mask(copy, maskUrl) {
    (copy.g4f as Record<string, unknown>).api_key = maskValue(copy.g4f.api_key);
    copy.g4f.proxy = maskUrl(copy.g4f.proxy);
    copy.openai_compatible = copy.openai_compatible.map((u) => ({ ...u, api_key: maskValue(u.api_key) ?? undefined, proxy: maskUrl(u.proxy) }));
  },
};

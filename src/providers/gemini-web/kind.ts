// Gemini web as a catalog entry: one provider for all accounts, kept across reloads (it re-applies
// `gemini.*` to its accounts and sessions instead of being replaced). The provider's module graph
// (sessions, frames, images, account rotation: over a quarter of the gateway's own code) is imported only
// when a config enables Gemini; in the bundle it is a chunk of its own.

import { fetchSecurityOptions } from '../../net/url-guard.js';
import type { ProviderKind } from '../catalog.js';
import type { StoredConversation } from './conversations.js';
import { unmappedModels } from './models.js';

type Implementation = typeof import('./provider.js');
let implementation: Implementation | undefined;

function loaded(): Implementation {
  if (!implementation) throw new Error('gemini-web provider created before its load() finished (use loadUpstreams)');
  return implementation;
}

export const geminiWebKind: ProviderKind = {
  upstreams(config) {
    if (!config.gemini.enabled) return [];
    const section = config.gemini;
    const fetching = fetchSecurityOptions(config.security);
    return [
      {
        id: 'gemini',
        models: section.models,
        textOnlyModels: [],
        aliases: section.model_aliases,
        // Gemini fails over between its accounts itself; one more try covers its transient 1013s.
        retry: { enabled: true, maxRetries: 1 },
        key: 'gemini',
        load: async () => {
          implementation ??= await import('./provider.js');
        },
        create: ({ secrets, log, state, alerts }) =>
          new (loaded().GeminiWebProvider)(secrets, log, state.store<StoredConversation>('conversations', 2000, 3_600_000), state.accounts, alerts),
        update: (provider) => (provider instanceof loaded().GeminiWebProvider ? provider.apply(section, fetching) : Promise.resolve()),
      },
    ];
  },
  secrets: () => [],
  warnings(config) {
    if (!config.gemini.enabled) return [];
    return unmappedModels(config.gemini).map(
      (name) => `gemini.models: "${name}" has no id in gemini.model_map and no gemini.model_aliases entry; it is served only if the account lists a model by that name`,
    );
  },
  urls: (config) => [config.gemini.proxy, ...config.gemini.accounts.map((a) => a.proxy)],
  mask(copy, maskUrl) {
    copy.gemini.proxy = maskUrl(copy.gemini.proxy);
    for (const account of copy.gemini.accounts) account.proxy = maskUrl(account.proxy);
  },
};

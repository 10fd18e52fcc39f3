// A copy of the config that is safe to show (admin status, check-config): secrets masked.

import { mask } from '../secrets.js';
import type { GatewayConfig } from './schema.js';

export function maskedConfig(config: GatewayConfig): unknown {
  const copy = structuredClone(config) as GatewayConfig & Record<string, unknown>;
  const auth = copy.auth as Record<string, unknown>;
  auth.bearer_token = mask(config.auth.bearer_token);
  auth.admin_token = mask(config.auth.admin_token);
  auth.tokens = config.auth.tokens.map((t) => (typeof t === 'string' ? mask(t) : { name: t.name, token: mask(t.token) }));
  (copy.g4f as Record<string, unknown>).api_key = mask(config.g4f.api_key);
  copy.openai_compatible = copy.openai_compatible.map((u) => ({ ...u, api_key: mask(u.api_key) ?? undefined }));
  // URLs that may carry a password (proxies, Redis): user:****@host.
  copy.g4f.proxy = maskUrlPassword(copy.g4f.proxy);
  for (const u of copy.openai_compatible) u.proxy = maskUrlPassword(u.proxy);
  copy.gemini.proxy = maskUrlPassword(copy.gemini.proxy);
  for (const a of copy.gemini.accounts) a.proxy = maskUrlPassword(a.proxy);
  copy.state.redis_url = maskUrlPassword(copy.state.redis_url);
  return copy;
}

/** Every secret value in a config, for the log scrubber. */
export function configSecrets(config: GatewayConfig): string[] {
  const out: Array<string | undefined> = [config.auth.bearer_token, config.auth.admin_token, config.g4f.api_key];
  for (const t of config.auth.tokens) out.push(typeof t === 'string' ? t : t.token);
  for (const u of config.openai_compatible) out.push(u.api_key);
  const urls = [config.g4f.proxy, config.gemini.proxy, config.state.redis_url, ...config.openai_compatible.map((u) => u.proxy), ...config.gemini.accounts.map((a) => a.proxy)];
  for (const url of urls) out.push(urlPassword(url));
  return out.filter((v): v is string => !!v);
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** redis://user:secret@host -> redis://user:****@host */
function maskUrlPassword(url: string | undefined): string | undefined {
  if (!url || !urlPassword(url)) return url;
  const parsed = new URL(url);
  parsed.password = '****';
  return parsed.toString();
}

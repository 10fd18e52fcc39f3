// A copy of the config that is safe to show (admin status, check-config): secrets masked. Each
// upstream kind masks its own sections (providers/catalog.ts); auth and state are masked here.

import { KINDS } from '../providers/catalog.js';
import { mask } from '../secrets.js';
import type { GatewayConfig } from './schema.js';

export function maskedConfig(config: GatewayConfig): unknown {
  const copy = structuredClone(config) as GatewayConfig & Record<string, unknown>;
  const auth = copy.auth as Record<string, unknown>;
  auth.bearer_token = mask(config.auth.bearer_token);
  auth.admin_token = mask(config.auth.admin_token);
  auth.tokens = config.auth.tokens.map((t) => (typeof t === 'string' ? mask(t) : { name: t.name, token: mask(t.token) }));
  for (const kind of KINDS) kind.mask(copy, maskUrlPassword);
  copy.state.redis_url = maskUrlPassword(copy.state.redis_url);
  // A webhook URL's path is often its secret (chat bot tokens): show the origin only.
  if (copy.alerts.webhook_url) (copy.alerts as Record<string, unknown>).webhook_url = `${new URL(copy.alerts.webhook_url).origin}/****`;
  return copy;
}

/** Every secret value in a config, for the log scrubber. */
export function configSecrets(config: GatewayConfig): string[] {
  const out: Array<string | undefined> = [config.auth.bearer_token, config.auth.admin_token, config.alerts.webhook_url];
  for (const t of config.auth.tokens) out.push(typeof t === 'string' ? t : t.token);
  for (const kind of KINDS) out.push(...kind.secrets(config));
  const urls = [config.state.redis_url, ...KINDS.flatMap((kind) => kind.urls(config))];
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

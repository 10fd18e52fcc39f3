// Upstream HTTP: one keep-alive undici dispatcher per upstream (and proxy). HTTP(S) proxies via
// ProxyAgent, SOCKS5 via Socks5ProxyAgent, and with no proxy configured the environment's
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured (EnvHttpProxyAgent).

import { Agent, EnvHttpProxyAgent, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici';

export interface DispatcherOptions {
  proxy?: string | undefined;
  connectTimeoutMs: number;
}

const ENV_PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const common = { connect: { timeout: options.connectTimeoutMs }, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 };
  const proxy = options.proxy;
  if (proxy) {
    const url = new URL(proxy);
    if (url.protocol === 'socks5:' || url.protocol === 'socks5h:' || url.protocol === 'socks:') {
      // Its `connect` option is a connector function, not connect options: the timeout stays default.
      return new Socks5ProxyAgent(proxy, {
        keepAliveTimeout: common.keepAliveTimeout,
        keepAliveMaxTimeout: common.keepAliveMaxTimeout,
        ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
      });
    }
    return new ProxyAgent({ uri: proxy, ...common });
  }
  if (ENV_PROXY_VARS.some((name) => process.env[name])) return new EnvHttpProxyAgent(common);
  return new Agent(common);
}

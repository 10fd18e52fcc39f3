// The composition root: load config, wire services, build the app, listen, watch the config
// file. process.ts adds the process concerns (signals, exit codes; main.ts and the CLI's `serve`
// run it); tests start gateways here.

import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { isLoopbackHost, isOpen } from './http/auth.js';
import { formatIssues, loadConfigFile, resolveConfigPath } from './config/load.js';
import { configSecrets } from './config/mask.js';
import { reloadConfig } from './config/reload.js';
import { ConfigStore } from './config/store.js';
import { watchConfigFile, type ConfigWatcher } from './config/watch.js';
import { drain, type DrainResult } from './http/lifecycle.js';
import { LogManager } from './logging/log-manager.js';
import type { ProviderRegistry } from './core/provider.js';
import { configWarnings } from './providers/catalog.js';
import { SharedState } from './state/shared-state.js';
import { SecretRegistry } from './secrets.js';

export class ConfigError extends Error {
  constructor(readonly file: string, readonly details: string) {
    super(`Invalid config ${file}:\n${details}`);
    this.name = 'ConfigError';
  }
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Console log output; defaults to stdout. */
  stdout?: NodeJS.WritableStream;
  providers?: ProviderRegistry;
  watch?: { debounceMs?: number; pollIntervalMs?: number };
}

export interface Gateway {
  app: FastifyInstance;
  store: ConfigStore;
  logs: LogManager;
  secrets: SecretRegistry;
  /** The interface actually bound (127.0.0.1 when no token is configured). */
  host: string;
  port: number;
  url: string;
  reload(trigger: 'signal' | 'admin' | 'file'): ReturnType<typeof reloadConfig>;
  close(timeoutMs?: number): Promise<DrainResult>;
}

export async function startGateway(options: StartOptions = {}): Promise<Gateway> {
  const env = options.env ?? process.env;
  const file = resolveConfigPath(env);
  const loaded = await loadConfigFile(file, env);
  if (!loaded.ok) throw new ConfigError(file, formatIssues(loaded.issues));

  const secrets = new SecretRegistry();
  const logs = new LogManager({ secrets, ...(options.stdout ? { stdout: options.stdout } : {}) });
  const store = new ConfigStore(file, loaded, env);
  const config = store.current().config;
  secrets.set('config', configSecrets(config));
  await logs.apply(config.logging);
  const log = logs.module('server');

  const host = listenHost(config.server.host, isOpen(config.auth));
  if (host !== config.server.host) {
    log.warn(
      `NO AUTH TOKEN CONFIGURED: listening on ${host} only instead of ${config.server.host}. ` +
        'Set auth.bearer_token (or BEARER_TOKEN) to serve other machines.',
    );
  }
  // Never let a reload turn a publicly bound gateway into an open one.
  store.setGuard((next) =>
    !isLoopbackHost(host) && isOpen(next.auth)
      ? [{ path: 'auth.bearer_token', message: `required while listening on ${host} (a gateway without a token must stay on loopback)` }]
      : [],
  );
  for (const warning of configWarnings(config)) log.warn(warning);
  store.onChange(async (next) => {
    secrets.set('config', configSecrets(next.config));
    await logs.apply(next.config.logging);
    for (const warning of configWarnings(next.config)) log.warn(warning);
  });

  // Restart-only: replicas share conversations and stored Responses through Redis when configured.
  const state = config.state.redis_url ? await SharedState.redis(config.state.redis_url, config.state.key_prefix, logs.module('state')) : SharedState.memory();
  const app = await buildApp({ store, logs, secrets, state, ...(options.providers ? { providers: options.providers } : {}) });
  await app.listen({ host, port: config.server.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  log.info({ host, port, config: store.file, source: store.current().source }, `gateway listening on http://${host}:${port}`);

  const reload = (trigger: 'signal' | 'admin' | 'file') => reloadConfig(store, log, trigger);
  // CONFIG_WATCH=false leaves reloads to SIGHUP and the admin endpoint.
  const watcher: ConfigWatcher | undefined = /^(0|false|no|off)$/i.test(env.CONFIG_WATCH ?? '')
    ? undefined
    : watchConfigFile(file, () => void reload('file'), options.watch);
  let closing: Promise<DrainResult> | undefined;

  return {
    app,
    store,
    logs,
    secrets,
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    reload,
    close(timeoutMs = store.current().config.server.shutdown_timeout * 1000) {
      closing ??= (async () => {
        watcher?.close();
        const result = await drain(app, timeoutMs);
        log.info(result, result.forced ? 'shutdown: drain timed out, open connections cut' : 'shutdown: drained');
        await state.close();
        logs.close();
        return result;
      })();
      return closing;
    },
  };
}

/** An open gateway (no token) binds loopback only, whatever the config says. */
export function listenHost(configured: string, open: boolean): string {
  return open && !isLoopbackHost(configured) ? '127.0.0.1' : configured;
}

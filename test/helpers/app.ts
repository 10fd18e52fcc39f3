import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { parseConfigText } from '../../src/config/load.js';
import { configSecrets } from '../../src/config/mask.js';
import { ConfigStore } from '../../src/config/store.js';
import { LogManager } from '../../src/logging/log-manager.js';
import type { ProviderRegistry } from '../../src/core/provider.js';
import { SecretRegistry } from '../../src/secrets.js';
import { CaptureStream } from './capture.js';

export interface TestApp {
  app: FastifyInstance;
  store: ConfigStore;
  logs: LogManager;
  output: CaptureStream;
}

/** An app built from YAML text (no file, no listening), logging JSON into a capture stream. */
export async function appFor(yaml: string, options: { providers?: ProviderRegistry; env?: Record<string, string> } = {}): Promise<TestApp> {
  const loaded = parseConfigText(yaml, options.env ?? {});
  if (!loaded.ok) throw new Error(`bad test config: ${JSON.stringify(loaded.issues)}`);
  const store = new ConfigStore('/nonexistent/config.yaml', loaded, options.env ?? {});
  const secrets = new SecretRegistry();
  secrets.set('config', configSecrets(loaded.config));
  const output = new CaptureStream();
  const logs = new LogManager({ secrets, stdout: output });
  await logs.apply(loaded.config.logging);
  const app = await buildApp({ store, logs, ...(options.providers ? { providers: options.providers } : {}) });
  return { app, store, logs, output };
}

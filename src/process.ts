// The gateway process: start, reload config on SIGHUP, drain on SIGTERM/SIGINT. An invalid
// config at start-up exits non-zero with the key path and the problem.

import { ConfigError, startGateway, type Gateway } from './server.js';

/** Run the gateway until a signal stops it (the default command). */
export async function serve(): Promise<void> {
  let gateway: Gateway;
  try {
    gateway = await startGateway();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gemini-gateway: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`gemini-gateway: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const log = gateway.logs.module('process');

  process.on('SIGHUP', () => void gateway.reload('signal'));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: draining in-flight requests`);
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
}


// A throwaway redis-server on a loopback port for tests that share state between replicas
// (.ci/run installs the Debian package; test/helpers/system-deps.ts skips loudly without it).
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './gateway.js';

/** Starts redis-server (no persistence) and resolves once it answers PING. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => server.once('error', (e) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${e.message}`))));
  const answers = async () => {
    // A fresh client per try: redis-server may still be starting (refused until it listens).
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };
  await Promise.race([failed, waitFor(answers, 10_000, 100)]);
  return server;
}

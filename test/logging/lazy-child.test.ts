// Request loggers (src/logging/lazy-child.ts) write through the parent with the bindings first: the
// lines must be what a pino child writes, redaction included, and no child is made per request.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from 'pino';
import { LogManager } from '../../src/logging/log-manager.js';
import { LazyChildLogger } from '../../src/logging/lazy-child.js';
import { SecretRegistry } from '../../src/secrets.js';
import { appFor, type TestApp } from '../helpers/app.js';
import { CaptureStream } from '../helpers/capture.js';

async function manager(level: string): Promise<{ logger: Logger; output: CaptureStream }> {
  const output = new CaptureStream();
  const logs = new LogManager({ secrets: new SecretRegistry(), stdout: output });
  await logs.apply({ level, format: 'json' } as never);
  return { logger: logs.logger as Logger, output };
}

const CALLS: Array<[string, (log: Record<string, (...args: unknown[]) => void>) => void]> = [
  ['fields and a message', (log) => log.info!({ method: 'GET', status: 200, nested: { token: 'sk-secret-000', keep: 1 } }, 'GET /v1/models')],
  ['a message only', (log) => log.warn!('plain message')],
  ['a message with format arguments', (log) => log.warn!('format %s and %d', 'x', 3)],
  ['an Error first', (log) => log.error!(new Error('boom'), 'failed')],
  ['an Error among the fields', (log) => log.info!({ err: new Error('inner'), headers: { authorization: 'Bearer sk-000' } }, 'with err')],
  ['fields without a message', (log) => log.info!({ a: [1, 2], b: null })],
];

describe('lazy request child logger', () => {
  it.each(CALLS)('writes the same line as a pino child: %s', async (_name, call) => {
    const real = await manager('info');
    const lazy = await manager('info');
    call(real.logger.child({ req_id: 'abc-1' }) as never);
    call(new LazyChildLogger(lazy.logger as never, { req_id: 'abc-1' }) as never);
    // The two Errors differ only in their stacks (called from two lines of this test).
    const normal = (text: string) => text.replace(/"time":\d+/, '').replace(/"stack":"(?:[^"\\]|\\.)*"/g, '"stack":""');
    expect(real.output.lines()).toHaveLength(1);
    expect(lazy.output.text).not.toMatch(/sk-secret-000|Bearer sk-000/);
    // Key order too: the bindings come right after level and time, as in a child's line.
    expect(normal(lazy.output.text)).toBe(normal(real.output.text));
  });

  it('makes no pino child for plain lines, and follows the parent level (run-time switches included)', async () => {
    const { logger, output } = await manager('info');
    const child = vi.spyOn(logger, 'child');
    const log = new LazyChildLogger(logger as never, { req_id: 'r1' });
    log.debug({ a: 1 }, 'hidden');
    expect(output.lines()).toHaveLength(0);
    expect(log.isLevelEnabled('debug')).toBe(false);
    logger.level = 'debug';
    log.debug({ a: 1 }, 'shown');
    expect(output.lines()).toMatchObject([{ level: 'debug', req_id: 'r1', a: 1, msg: 'shown' }]);
    expect(child).not.toHaveBeenCalled();
    log.error(new Error('x'), 'an error takes a real child');
    expect(child).toHaveBeenCalledTimes(1);
  });
});

describe('requests through the app', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.app.close();
    t?.logs.close();
  });

  it('log their line with req_id and make no pino child per request', async () => {
    t = await appFor('auth:\n  bearer_token: lazy-child-token-000\n');
    const child = vi.spyOn(t.logs.logger, 'child');
    for (let i = 0; i < 3; i++) await t.app.inject({ url: '/v1/models', headers: { authorization: 'Bearer lazy-child-token-000' } });
    const lines = t.output.lines().filter((l) => l.path === '/v1/models');
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((l) => l.req_id)).size).toBe(3);
    expect(Object.keys(lines[0]!).slice(0, 4)).toEqual(['level', 'time', 'req_id', 'method']);
    expect(child).not.toHaveBeenCalled();
  });
});

// The rule for tests that need a system program: skipped with one loud line on a developer's
// machine, a failure under CI (where .ci/run installs it).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findExecutable, inCi, requireSystemPackage } from './helpers/system-deps.js';

afterEach(() => vi.restoreAllMocks());
const nowhere = { PATH: '/nonexistent-dir' };

describe('requireSystemPackage', () => {
  it('finds programs on PATH and by absolute path', () => {
    expect(findExecutable('node', { PATH: process.env.PATH })).toBeDefined();
    expect(findExecutable(process.execPath, nowhere)).toBe(process.execPath);
    expect(findExecutable('node', nowhere)).toBeUndefined();
  });

  it('outside CI: false, and one loud line with the install command', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(requireSystemPackage('redis-server', { pkg: 'redis-server', tests: 'the scale-out tests' }, nowhere)).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toBe('⚠ MISSING SYSTEM PACKAGE: redis-server not found, the scale-out tests SKIPPED. Install it with: sudo apt-get install redis-server');
  });

  it('under CI: throws, so the test file fails instead of skipping', () => {
    expect(() => requireSystemPackage('/usr/bin/no-such-chromium', { pkg: 'chromium', tests: 'the browser tests' }, { ...nowhere, CI: 'true' })).toThrow(/CI is set.*apt-get install chromium/);
    expect(inCi({ CI: 'false' })).toBe(false);
    expect(inCi({})).toBe(false);
  });

  it('is true when the program is there', () => {
    expect(requireSystemPackage('node', { pkg: 'nodejs', tests: 'x' }, { PATH: process.env.PATH, CI: 'true' })).toBe(true);
  });
});

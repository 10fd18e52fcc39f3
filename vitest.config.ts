import { defineConfig } from 'vitest/config';

// Two cores on CI machines: keep parallelism bounded so timing-sensitive tests
// (file watching, TTLs, graceful drain) are not starved.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 15_000,
    hookTimeout: 15_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});

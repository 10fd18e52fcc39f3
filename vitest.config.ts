import { defineConfig } from 'vitest/config';

// Two cores on CI machines: keep parallelism bounded so timing-sensitive tests
// (file watching, TTLs, graceful drain) are not starved. The load test measures the gateway's
// memory and event-loop delay, so it runs alone, after everything else.
const LOAD = ['test/load.test.ts'];
export default defineConfig({
  test: {
    benchmark: { include: ['bench/**/*.bench.ts'] },
    pool: 'forks',
    testTimeout: 15_000,
    hookTimeout: 15_000,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: LOAD, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'load', include: LOAD, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});

// Prints one plain closing line, "tests: N passed, N failed[, N skipped]", after vitest's own
// report, so CI logs state the outcome in a form any log reader understands.
// Tests skipped for a missing system package (test/helpers/system-deps.ts) are named again there.
import type { Reporter, TestModule } from 'vitest/node';
import { MISSING_MARK } from './helpers/system-deps.js';

export default class SummaryReporter implements Reporter {
  private readonly missing = new Set<string>();

  onUserConsoleLog(log: Parameters<NonNullable<Reporter['onUserConsoleLog']>>[0]): void {
    if (log.content.includes(MISSING_MARK)) this.missing.add(log.content.trim());
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load or in a hook (its tests skipped) must still count as a failure.
      const tests = [...module.children.allTests()];
      if (module.state() === 'failed' && !tests.some((t) => t.result().state === 'failed')) failed++;
    }
    for (const line of this.missing) process.stdout.write(`\n${line}`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}

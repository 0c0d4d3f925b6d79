import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line, `N passed, N failed[, N skipped]`, after vitest's own summary,
 * so that CI tooling that does not parse vitest's coloured output still reads the result. A test
 * declared with `it.fails` is never counted as passed: it is listed as expected to fail.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, expectedFail: 0 };
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' && test.options.fails === true) counts.expectedFail += 1;
        else if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') counts.failed += 1;
        else counts.skipped += 1;
      }
      if (testModule.state() === 'failed' && testModule.children.size === 0) counts.failed += 1;
    }
    const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
    const expected = counts.expectedFail > 0 ? `, ${counts.expectedFail} expected to fail (it.fails)` : '';
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed${skipped}${expected}\n`);
  }
}

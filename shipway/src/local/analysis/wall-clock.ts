import type { AnalysisClock } from '../../core/analysis/run-analysis.js';

/** The real clock, for analyses outside tests; sleep wakes early when the signal aborts. */
export const wallClock: AnalysisClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted === true) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

import { defineConfig } from 'vitest/config';
import HeavyFirstSequencer from './vitest.sequencer.js';

export default defineConfig({
  test: {
    include: ['service/**/*.test.ts', 'shipway/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    reporters: ['default', './vitest.summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and sockets; two cores are shared by all of them.
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: HeavyFirstSequencer },
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', '.charter/**'],
    reporters: ['default', './tests/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Tests that start servers (radosgw, local AWS protocol servers) and spawn the CLI
    // are heavier than unit tests; two workers match the two cores of the reference machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});

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
    // Node 20.20's V8 intermittently aborts ("unreachable code" in
    // Deoptimizer::DoComputeBuiltinContinuation) under heavy Cedar/wasm load, killing the
    // worker. Workers stop at the baseline compiler: no TurboFan code, so no such deopt;
    // measured on the pack corpus, the time is the same (wasm dominates).
    execArgv: ['--max-opt=1'],
    maxWorkers: 2,
  },
});

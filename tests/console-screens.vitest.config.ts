import { defineConfig } from 'vitest/config';

// `npm run console:screenshots`: the README's console screenshots on a demo home
// (tests/console-demo.screens.ts; not part of `npm test`, the demo alone takes minutes).
export default defineConfig({
  test: {
    include: ['tests/console-demo.screens.ts'],
    testTimeout: 300_000,
    hookTimeout: 3_600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});

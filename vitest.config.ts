import { defineConfig } from 'vitest/config';

// Tests run in Node on Dawn's software adapter (lavapipe preferred, see src/node.ts).
// GPU work is serialised: two cores and a software adapter gain nothing from parallel files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'node_modules/**'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});

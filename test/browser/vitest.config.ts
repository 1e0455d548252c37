// The browser suite: Chromium (through puppeteer-core) on pages served by vite. Its root is this
// folder, so it runs the same alone and as a project of the root config:
//   npx vitest run --config test/browser/vitest.config.ts
// One browser at a time: two cores and a software adapter gain nothing from parallel files.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'browser',
    include: ['**/*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    fileParallelism: false,
    // As a project of the root config: after the Node tests, not beside them on the same cores.
    sequence: { groupOrder: 1 },
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

// The browser suite: Chromium (through puppeteer-core) on pages served by vite. Run it with
//   npx vitest run --config test/browser/vitest.config.ts
// One browser at a time: two cores and a software adapter gain nothing from parallel files.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    name: 'browser',
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/browser/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});

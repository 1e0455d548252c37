import { defineConfig } from 'vitest/config';

// Two projects: 'node' (Dawn, lavapipe preferred: see src/runtime/node-gpu.ts) and 'browser'
// (headless Chromium through puppeteer, SwiftShader; see docs/browser.md). GPU work is
// serialised: two cores and a software adapter gain nothing from parallel files.
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/browser/**', 'node_modules/**'] } },
      './test/browser/vitest.config.ts',
    ],
  },
});

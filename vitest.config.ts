import { defineConfig } from 'vitest/config';

// Three projects: 'node' (Dawn, lavapipe preferred: see src/runtime/node-gpu.ts), 'swiftshader'
// (the same Node tests again on SwiftShader) and 'browser' (headless Chromium through puppeteer,
// SwiftShader; see docs/browser.md). GPU work is serialised: two cores and a software adapter
// gain nothing from parallel files.
//
// Why the Node tests twice: each adapter compiles WGSL with its own compiler and runs kernels on
// threads of its own, and SwiftShader (Chromium's adapter) has shown what lavapipe did not: a
// convolution kernel it could not compile (ResNet-18's 7x7 stride-2 stem), 256-byte buffer
// offsets where a test assumed 16, a crash at exit after a GPU wait timed out. Since Dawn zeroes
// its workgroup memory itself (src/runtime/dawn-features.ts) the whole run there takes about as
// long as on lavapipe (12 minutes on this project's 2 cores).
const NODE_TESTS = { include: ['test/**/*.test.ts'], exclude: ['test/browser/**', 'node_modules/**'] };

export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'node', ...NODE_TESTS } },
      { extends: true, test: { name: 'swiftshader', ...NODE_TESTS, env: { WGT_ADAPTER: 'swiftshader' } } },
      './test/browser/vitest.config.ts',
    ],
  },
});

import { defineConfig } from 'vitest/config';

// Three projects: 'node' (Dawn, lavapipe preferred: see src/runtime/node-gpu.ts), 'swiftshader'
// (the model checks again on SwiftShader, in Node) and 'browser' (headless Chromium through
// puppeteer, SwiftShader; see docs/browser.md). GPU work is serialised: two cores and a software
// adapter gain nothing from parallel files.
//
// Why a SwiftShader leg: each adapter compiles WGSL with its own compiler, and a kernel that
// lavapipe compiles in a second can take SwiftShader's minutes or all of the memory (ResNet-18's
// 7x7 stride-2 stem did, unseen, because the browser page builds no ResNet). These two files run
// every layer shape of VGG16, vgg16_bn and ResNet-18 forward and backward against PyTorch; the
// whole Node suite on SwiftShader takes about four times as long and adds few shapes.
const MODEL_CHECKS = ['test/models/parity.test.ts', 'test/models/full-gradients.test.ts'];

export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/browser/**', 'node_modules/**'] } },
      { extends: true, test: { name: 'swiftshader', include: MODEL_CHECKS, env: { WGT_ADAPTER: 'swiftshader' } } },
      './test/browser/vitest.config.ts',
    ],
  },
});

// The shared checks (test/shared/index.ts) in Node, on Dawn's adapter; test/browser/parity.test.ts
// runs the very same checks in Chromium.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/index.js';
import { vitestExpect } from '../helpers/vitest-expect.js';
import { testContext } from '../helpers/gpu.js';
import { checksById, suites } from './index.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

it('every shared check has a unique name', () => {
  expect(() => checksById()).not.toThrow();
});

for (const suite of suites) {
  describe(suite.name, () => {
    for (const check of suite.checks) it(check.name, () => check.run({ expect: vitestExpect, ctx }));
  });
}

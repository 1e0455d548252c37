// The shared checks (test/shared/index.ts) in Node, on Dawn's adapter; test/browser/parity.test.ts
// runs the very same checks in Chromium.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/index.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { checksById, suites, type CheckExpect } from './index.js';

/** The shared checks' `expect`, on vitest's: failures show vitest's diffs. */
const vitestExpect: CheckExpect = {
  close: (actual, expected, atol, rtol, what) => expectClose(actual, expected, atol, rtol, what),
  equal: (actual, expected, what) => expect(actual, what).toEqual(expected),
  ok: (condition, what) => expect(condition, what).toBeTruthy(),
};

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

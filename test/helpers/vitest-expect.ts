import { expect } from 'vitest';
import { expectClose } from './compare.js';
import type { CheckExpect } from '../shared/check.js';

/** The shared checks' `expect` (test/shared/check.ts), on vitest's: failures show vitest's diffs. */
export const vitestExpect: CheckExpect = {
  close: (actual, expected, atol, rtol, what) => expectClose(actual, expected, atol, rtol, what),
  equal: (actual, expected, what) => expect(actual, what).toEqual(expected),
  ok: (condition, what) => expect(condition, what).toBeTruthy(),
};

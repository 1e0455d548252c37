// Node's entry to the op check shared with the browser suite (test/shared/op-check.ts).
import { checkOp as sharedCheckOp, type OpCheck } from '../shared/op-check.js';
import { vitestExpect } from './vitest-expect.js';

export type { OpCheck };

/** An op's forward against its float64 reference, and every gradient against finite differences. */
export function checkOp(check: OpCheck): Promise<void> {
  return sharedCheckOp(vitestExpect, check);
}

// Checks that run unchanged in Node (vitest, Dawn) and in a browser page (Chromium's WebGPU).
// A check is a plain async function of a CheckContext: it imports no test framework, only the
// engine's browser-safe entry, so the page bundles exactly the code Node runs. Each runtime
// passes its own `expect` (vitest's in Node, plainExpect in the page).
import type { GpuContext } from '../../src/index.js';

export interface CheckExpect {
  /** |actual − expected| ≤ atol + rtol·|expected| element-wise; the worst element is reported. */
  close(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol?: number, what?: string): void;
  /** Deep equality of plain values (numbers, strings, arrays, plain objects). */
  equal(actual: unknown, expected: unknown, what?: string): void;
  ok(condition: unknown, what: string): void;
}

export interface CheckContext {
  expect: CheckExpect;
  /** The runtime's default context (initNode / initBrowser ran before). */
  ctx: GpuContext;
}

export interface Check {
  name: string;
  run(t: CheckContext): Promise<void>;
}

/** A named list of checks; add one to `suites` in index.ts and it runs in both runtimes. */
export interface CheckSuite {
  name: string;
  checks: readonly Check[];
}

export const check = (name: string, run: (t: CheckContext) => Promise<void>): Check => ({ name, run });

/** What the page reports for one check. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** The failure's message (with its stack in a browser), empty when the check passed. */
  message: string;
  ms: number;
}

export class CheckFailure extends Error {
  override name = 'CheckFailure';
}

/** An `expect` with no framework behind it: it throws CheckFailure, with the same rules as test/helpers/compare.ts. */
export const plainExpect: CheckExpect = {
  close(actual, expected, atol, rtol = 0, what = 'values') {
    if (actual.length !== expected.length) throw new CheckFailure(`${what}: length ${actual.length}, expected ${expected.length}`);
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < expected.length; i++) {
      const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
      if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (worst >= 0) {
      throw new CheckFailure(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
    }
  },
  equal(actual, expected, what = 'value') {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new CheckFailure(`${what}: got ${a}, expected ${e}`);
  },
  ok(condition, what) {
    if (!condition) throw new CheckFailure(what);
  },
};

/** Runs one check, turning a throw into a failed result (what the page sends back to Node). */
export async function runCheck(check: Check, t: CheckContext): Promise<CheckResult> {
  const start = performance.now();
  try {
    await check.run(t);
    return { name: check.name, ok: true, message: '', ms: performance.now() - start };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    return { name: check.name, ok: false, message, ms: performance.now() - start };
  }
}

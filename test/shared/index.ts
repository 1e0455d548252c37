// Every shared suite. A suite listed here runs in Node (test/shared/node.test.ts, on Dawn) and in
// Chromium (web/tests.html, driven by test/browser/parity.test.ts): add the conv, batch-norm,
// loss and optimizer suites the same way, as modules that import only src/index.ts.
import { autograd, coreOps } from './core.js';
import { convolutions } from './convolutions.js';
import { training } from './training.js';
import { weightFiles } from './weights.js';
import type { Check, CheckSuite } from './check.js';

export const suites: readonly CheckSuite[] = [coreOps, autograd, convolutions, training, weightFiles];

/** `suite › check`: the name both runners use, unique across all suites. */
export function checkId(suite: CheckSuite, check: Check): string {
  return `${suite.name} › ${check.name}`;
}

/** Every check by its id; throws on a duplicate id, which would hide a check in the browser run. */
export function checksById(list: readonly CheckSuite[] = suites): Map<string, Check> {
  const byId = new Map<string, Check>();
  for (const suite of list) {
    for (const check of suite.checks) {
      const id = checkId(suite, check);
      if (byId.has(id)) throw new Error(`two shared checks are named '${id}'`);
      byId.set(id, check);
    }
  }
  return byId;
}

export * from './check.js';

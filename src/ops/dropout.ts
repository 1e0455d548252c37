import type { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runDropout } from '../kernels/dropout.js';
import { expectFloat } from './checks.js';
import { OptionRangeError } from '../runtime/errors.js';

export interface DropoutOptions {
  training: boolean;
  /** Seeds the mask; with `step`, the whole mask is a pure function of (seed, step, index). */
  seed: number;
  /** Which draw of this seed: a layer counts its training steps so every step gets a new mask. */
  step?: number;
}

/**
 * Zeroes each element with probability p and scales the others by 1/(1 − p), as nn.Dropout.
 * In eval mode (or with p = 0) it returns `x` itself: no dispatch, no copy.
 *
 * The mask is never stored: backward recomputes it from the same (seed, step), which makes
 * dropout's gradient the same kernel applied to the upstream gradient.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  expectFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new OptionRangeError(`dropout: p must be in [0, 1], got ${p}`);
  const step = options.step ?? 0;
  for (const [name, value] of [['seed', options.seed], ['step', step]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new OptionRangeError(`dropout: ${name} must be an integer in [0, 2^32), got ${value}`);
  }
  if (!options.training || p === 0) return x;
  const y = runDropout(x, p, options.seed, step);
  return record('dropout', y, [x], [], (g) => [runDropout(g, p, options.seed, step)]);
}

import type { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runSoftmax } from '../kernels/softmax.js';
import { runBinary, runUnary } from '../kernels/elementwise.js';
import { runReduce } from '../kernels/reduce.js';
import { expectFloat } from './checks.js';

/** Sum over the last axis, keeping it as size 1 (for the backward rules below). */
function rowSums(t: Tensor): Tensor {
  const cols = t.shape[t.ndim - 1]!;
  return runReduce('sum', t, t.size / cols, cols, 1, [...t.shape.slice(0, -1), 1]);
}

/** Softmax over the last axis. dx = y ⊙ (g − Σ g⊙y). */
export function softmax(x: Tensor): Tensor {
  expectFloat('softmax', x);
  const y = runSoftmax(x, false);
  return record('softmax', y, [x], [y], (g, [ys]) => {
    const dot = rowSums(runBinary('mul', g, ys!, g.shape));
    return [runBinary('mul', ys!, runBinary('sub', g, dot, g.shape), g.shape)];
  });
}

/** Log-softmax over the last axis. dx = g − softmax(x) · Σ g. */
export function logSoftmax(x: Tensor): Tensor {
  expectFloat('logSoftmax', x);
  const y = runSoftmax(x, true);
  return record('logSoftmax', y, [x], [y], (g, [ys]) => {
    const total = rowSums(g);
    const probabilities = runUnary('exp', ys!);
    return [runBinary('sub', g, runBinary('mul', probabilities, total, g.shape), g.shape)];
  });
}

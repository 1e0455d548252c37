import { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runReduce, type ReduceOp } from '../kernels/reduce.js';
import { runBinary, runExpand } from '../kernels/elementwise.js';
import { axisOf, expectFloat } from './checks.js';

export interface ReduceOptions {
  /** Axes to reduce (negative counts from the end); all axes when omitted. */
  axis?: number | readonly number[];
  keepDims?: boolean;
}

/**
 * Reduces `x` over a set of axes. Runs of adjacent reduced axes are reduced in one kernel launch
 * each ([outer, reduced, inner] view); non-adjacent runs are reduced one after the other.
 */
function reduceAxes(op: ReduceOp, x: Tensor, options: ReduceOptions, scale: number): { out: Tensor; axes: number[] } {
  const axes = normaliseAxes(op, x, options.axis);
  let current = x;
  let shape = [...x.shape];
  // Reduce the runs from the last one backwards, keeping dims as 1 so earlier axes stay put.
  for (const [first, last] of runsOf(axes).reverse()) {
    const outer = shape.slice(0, first).reduce((p, d) => p * d, 1);
    const reduced = shape.slice(first, last + 1).reduce((p, d) => p * d, 1);
    const inner = shape.slice(last + 1).reduce((p, d) => p * d, 1);
    shape = shape.map((d, i) => (i >= first && i <= last ? 1 : d));
    const next = runReduce(op, current, outer, reduced, inner, shape, current === x ? scale : 1);
    if (current !== x) current.dispose();
    current = next;
  }
  const finalShape = options.keepDims ? shape : x.shape.filter((_, i) => !axes.includes(i));
  const out = current === x ? x.share() : current;
  const shaped = out.view(finalShape);
  out.dispose();
  return { out: shaped, axes };
}

export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  expectFloat('sum', x);
  const { out, axes } = reduceAxes('sum', x, options, 1);
  return record('sum', out, [x], [], (g) => [expandTo(g, x.shape, axes, 1)]);
}

export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  expectFloat('mean', x);
  const axes = normaliseAxes('mean', x, options.axis);
  const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const { out } = reduceAxes('sum', x, options, 1 / count);
  return record('mean', out, [x], [], (g) => [expandTo(g, x.shape, axes, 1 / count)]);
}

/** Maximum over axes; the gradient flows to every position equal to the maximum. */
export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  expectFloat('max', x);
  const { out, axes } = reduceAxes('max', x, options, 1);
  return record('max', out, [x], [x, out], (g, [xs, ys]) => {
    const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const ys1 = ys!.view(keptShape);
    const isMax = runBinary('equal_mask', xs!, ys1, x.shape);
    const gx = expandTo(g, x.shape, axes, 1);
    const result = runBinary('mul', gx, isMax, x.shape);
    for (const t of [ys1, isMax, gx]) t.dispose();
    return [result];
  });
}

/** Index of the maximum along one axis (int32; not differentiable). */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  expectFloat('argmax', x);
  const a = axisOf('argmax', axis, x.ndim);
  return reduceAxes('argmax', x, { axis: a, keepDims }, 1).out;
}

/** Broadcasts a reduced gradient back over the reduced axes, times `scale`. */
function expandTo(g: Tensor, shape: readonly number[], axes: readonly number[], scale: number): Tensor {
  const g1 = g.view(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  const expanded = runExpand(g1, shape, scale);
  g1.dispose();
  return expanded;
}

function normaliseAxes(op: string, x: Tensor, axis: number | readonly number[] | undefined): number[] {
  const list = axis === undefined ? x.shape.map((_, i) => i) : typeof axis === 'number' ? [axis] : axis;
  return [...new Set(list.map((a) => axisOf(op, a, x.ndim)))].sort((a, b) => a - b);
}

function runsOf(sortedAxes: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of sortedAxes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a - 1) last[1] = a;
    else runs.push([a, a]);
  }
  return runs;
}

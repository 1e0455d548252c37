// The core ops' test cases, written once: test/core/ops.test.ts runs every case in Node, and
// test/shared/core.ts the `inBrowser` subset of them (kept small: Chromium here is SwiftShader).
import * as ops from '../../src/index.js';
import type * as R from '../helpers/reference.js';

export type BinaryCase = [string, (a: ops.Tensor, b: ops.Tensor) => ops.Tensor, (a: number, b: number) => number, [number, number]?];
export type UnaryCase = [string, (x: ops.Tensor) => ops.Tensor, (x: number) => number, { range?: [number, number]; avoid?: number }];
export type ReductionCase = [R.Shape, number[] | undefined];
export type MatmulCase = [R.Shape, R.Shape, boolean, boolean];

/** Marks the cases the browser page runs too. */
const inBrowser = new WeakSet<object>();
const browser = <T extends object>(item: T): T => (inBrowser.add(item), item);
export const browserOnly = <T extends object>(items: readonly T[]): T[] => items.filter((item) => inBrowser.has(item));

export const binaryCases: BinaryCase[] = [
  browser<BinaryCase>(['add', ops.add, (a, b) => a + b]),
  browser<BinaryCase>(['sub', ops.sub, (a, b) => a - b]),
  browser<BinaryCase>(['mul', ops.mul, (a, b) => a * b]),
  browser<BinaryCase>(['div', ops.div, (a, b) => a / b, [0.5, 2]]),
];

export const broadcastShapes: [R.Shape, R.Shape][] = [
  browser<[R.Shape, R.Shape]>([[3, 5], [3, 5]]), // same shape
  browser<[R.Shape, R.Shape]>([[2, 3, 5], [5]]), // trailing broadcast
  browser<[R.Shape, R.Shape]>([[4, 1, 3], [1, 5, 1]]), // both broadcast
  [[7], [1]], // scalar operand
  browser<[R.Shape, R.Shape]>([[1], [2, 3]]), // scalar on the left
  [[2, 1, 3, 1], [1, 4, 1, 2]],
];

export const unaryCases: UnaryCase[] = [
  browser<UnaryCase>(['neg', ops.neg, (x) => -x, {}]),
  browser<UnaryCase>(['exp', ops.exp, Math.exp, {}]),
  browser<UnaryCase>(['log', ops.log, Math.log, { range: [0.2, 3] }]),
  browser<UnaryCase>(['sqrt', ops.sqrt, Math.sqrt, { range: [0.2, 3] }]),
  browser<UnaryCase>(['relu', ops.relu, (x) => Math.max(x, 0), { avoid: 0.01 }]),
  browser<UnaryCase>(['sigmoid', ops.sigmoid, (x) => 1 / (1 + Math.exp(-x)), { range: [-4, 4] }]),
  browser<UnaryCase>(['tanh', ops.tanh, Math.tanh, { range: [-3, 3] }]),
  ['scale by -2.5', (x) => ops.scale(x, -2.5), (x) => -2.5 * x, {}],
  ['add 0.75', (x) => ops.addScalar(x, 0.75), (x) => x + 0.75, {}],
  ['pow 3', (x) => ops.powScalar(x, 3), (x) => x ** 3, {}],
  ['pow 0.5', (x) => ops.powScalar(x, 0.5), Math.sqrt, { range: [0.2, 3] }],
  browser<UnaryCase>(['pow -2', (x) => ops.powScalar(x, -2), (x) => x ** -2, { range: [0.5, 2] }]),
];

export const reductionCases: ReductionCase[] = [
  browser<ReductionCase>([[5], undefined]),
  browser<ReductionCase>([[3, 4], [1]]),
  [[3, 4], [0]],
  browser<ReductionCase>([[2, 3, 4], [0, 2]]), // non-adjacent axes
  [[2, 3, 4, 5], [1, 2]],
  [[1, 7, 1], [1]],
  browser<ReductionCase>([[300], [0]]), // long reduced axis (cooperative kernel on GPUs)
];

export const matmulCases: MatmulCase[] = [
  browser<MatmulCase>([[3, 4], [4, 5], false, false]),
  [[1, 7], [7, 1], false, false],
  browser<MatmulCase>([[4, 3], [4, 5], true, false]),
  browser<MatmulCase>([[3, 4], [5, 4], false, true]),
  browser<MatmulCase>([[4, 3], [5, 4], true, true]),
  browser<MatmulCase>([[33, 17], [17, 35], false, false]), // crosses the 4x4 block and 32x32 workgroup edges
  [[2, 3, 4], [2, 4, 5], false, false], // batched
  browser<MatmulCase>([[2, 4, 3], [2, 5, 4], true, true]), // batched, both transposed
  browser<MatmulCase>([[2, 3, 4], [4, 5], false, false]), // leading axes folded into M
];

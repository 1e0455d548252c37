import { beforeAll, describe, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { checkOp } from '../helpers/gradcheck.js';
import * as R from '../helpers/reference.js';
import * as ops from '../../src/node.js';
import { binaryCases, broadcastShapes, matmulCases, reductionCases, unaryCases } from '../shared/op-cases.js';

beforeAll(testContext);

// Forward: float32 element-wise math matches float64 to ~1e-6 relative. Gradients: finite
// differences are exact to ~1e-8 in float64; the GPU's float32 gradients to ~1e-6 relative,
// so 2e-4 absolute / 1e-3 relative leaves room only for rounding, not for a wrong rule.

describe('element-wise binary ops with broadcasting', () => {
  for (const [name, op, f, range] of binaryCases) {
    for (const [as, bs] of broadcastShapes) {
      it(`${name} [${as}] with [${bs}]`, () =>
        checkOp({
          gpu: ([a, b]) => op(a!, b!),
          reference: ([a, b]) => R.binaryRef(f, a!, as, b!, bs),
          shapes: [as, bs],
          range,
        }));
    }
  }
});

describe('element-wise unary ops', () => {
  for (const [name, op, f, opts] of unaryCases) {
    for (const shape of [[1], [13], [3, 1, 7]]) {
      it(`${name} [${shape}]`, () =>
        checkOp({ gpu: ([x]) => op(x!), reference: ([x]) => x!.map(f), shapes: [shape], ...opts }));
    }
  }
  it('tanh stays finite for large inputs', () =>
    checkOp({ gpu: ([x]) => ops.tanh(x!), reference: ([x]) => x!.map(Math.tanh), shapes: [[9]], range: [-60, 60] }));
});

describe('reductions over chosen axes', () => {
  for (const [shape, axes] of reductionCases) {
    const all = axes ?? shape.map((_, i) => i);
    for (const kind of ['sum', 'mean', 'max'] as const) {
      it(`${kind} of [${shape}] over ${axes ? `[${axes}]` : 'all axes'}`, () =>
        checkOp({
          gpu: ([x]) => ops[kind](x!, { axis: axes }),
          reference: ([x]) => R.reduceRef(kind, x!, shape, all).data,
          shapes: [shape],
          forward: [2e-5, 1e-5],
        }));
    }
  }
  it('keepDims keeps reduced axes as size 1', async () => {
    const x = ops.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const s = ops.sum(x, { axis: 1, keepDims: true });
    const { expect } = await import('vitest');
    expect(s.shape).toEqual([2, 1]);
    expect(Array.from(await s.read())).toEqual([6, 15]);
  });
  it('argmax along an axis', async () => {
    const { expect } = await import('vitest');
    const x = ops.tensor([0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 5, -1, 2, 0, 1, 4], [2, 2, 3]);
    expect(Array.from(await ops.argmax(x, -1).read())).toEqual([1, 2, 0, 2]);
    expect(Array.from(await ops.argmax(x, 0).read())).toEqual([1, 0, 1, 0, 1, 1]);
  });
});

describe('matmul', () => {
  for (const [as, bs, ta, tb] of matmulCases) {
    const K = ta ? as[as.length - 2]! : as[as.length - 1]!;
    it(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''}`, () =>
      checkOp({
        gpu: ([a, b]) => ops.matmul(a!, b!, { transA: ta, transB: tb }),
        reference: ([a, b]) =>
          as.length === 3 && bs.length === 2
            ? R.matmulRef(a!, [as[0]! * as[1]!, as[2]!], b!, bs, ta, tb)
            : R.matmulRef(a!, as, b!, bs, ta, tb),
        shapes: [as, bs],
        // K products summed in float32: error grows with K.
        forward: [1e-5 * K, 1e-5],
      }));
  }
  it('linear = x·Wᵀ + b', () =>
    checkOp({
      gpu: ([x, w, b]) => ops.linear(x!, w!, b!),
      reference: ([x, w, b]) => R.binaryRef((p, q) => p + q, R.matmulRef(x!, [6, 5], w!, [3, 5], false, true), [6, 3], b!, [3]),
      shapes: [[6, 5], [3, 5], [3]],
    }));
});

describe('shape ops and softmax', () => {
  it('reshape is differentiable', () =>
    checkOp({ gpu: ([x]) => ops.reshape(x!, [4, -1]), reference: ([x]) => x!.slice(), shapes: [[2, 6]] }));
  it('permute [2,3,4] by (2,0,1)', () =>
    checkOp({ gpu: ([x]) => ops.permute(x!, [2, 0, 1]), reference: ([x]) => R.permuteRef(x!, [2, 3, 4], [2, 0, 1]), shapes: [[2, 3, 4]] }));
  it('transpose of the last two axes', () =>
    checkOp({ gpu: ([x]) => ops.transpose(x!), reference: ([x]) => R.permuteRef(x!, [3, 2, 5], [0, 2, 1]), shapes: [[3, 2, 5]] }));
  for (const shape of [[4, 7], [2, 3, 5], [1, 1]]) {
    it(`softmax [${shape}]`, () =>
      checkOp({ gpu: ([x]) => ops.softmax(x!), reference: ([x]) => R.softmaxRef(x!, shape, false), shapes: [shape], range: [-3, 3] }));
    it(`logSoftmax [${shape}]`, () =>
      checkOp({ gpu: ([x]) => ops.logSoftmax(x!), reference: ([x]) => R.softmaxRef(x!, shape, true), shapes: [shape], range: [-3, 3] }));
  }
  it('softmax is stable for large logits', () =>
    checkOp({ gpu: ([x]) => ops.softmax(x!), reference: ([x]) => R.softmaxRef(x!, [2, 4], false), shapes: [[2, 4]], range: [500, 600] }));
});

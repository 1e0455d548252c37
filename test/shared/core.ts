// The core ops against float64 references: element-wise with broadcasting, reductions, matmul
// with transposes (and each matmul kernel variant), shape ops, softmax, and a composite
// backward: the browser subset of the cases in op-cases.ts (test/core/ops.test.ts runs them all).
import * as ops from '../../src/index.js';
import { runGemm, type MatmulVariant } from '../../src/kernels/matmul.js';
import * as R from '../helpers/reference.js';
import { check, type Check, type CheckSuite } from './check.js';
import { checkOp } from './op-check.js';
import {
  binaryCases as allBinaryCases, broadcastShapes as allBroadcastShapes, browserOnly, matmulCases as allMatmulCases,
  reductionCases as allReductionCases, unaryCases as allUnaryCases,
} from './op-cases.js';

const binaryCases = browserOnly(allBinaryCases);
const broadcastShapes = browserOnly(allBroadcastShapes);
const unaryCases = browserOnly(allUnaryCases);
const reductionCases = browserOnly(allReductionCases);
const matmulCases = browserOnly(allMatmulCases);

const softmaxShapes: R.Shape[] = [[4, 7], [2, 3, 5]];

const elementwise: Check[] = [
  ...binaryCases.flatMap(([name, op, f, range]) =>
    broadcastShapes.map(([as, bs]) =>
      check(`${name} [${as}] with [${bs}]`, ({ expect }) =>
        checkOp(expect, { gpu: ([a, b]) => op(a!, b!), reference: ([a, b]) => R.binaryRef(f, a!, as, b!, bs), shapes: [as, bs], range }),
      ),
    ),
  ),
  ...unaryCases.map(([name, op, f, options]) =>
    check(`${name} [3,1,7]`, ({ expect }) =>
      checkOp(expect, { gpu: ([x]) => op(x!), reference: ([x]) => x!.map(f), shapes: [[3, 1, 7]], ...options }),
    ),
  ),
];

const reductions: Check[] = [
  ...reductionCases.flatMap(([shape, axes]) =>
    (['sum', 'mean', 'max'] as const).map((kind) =>
      check(`${kind} of [${shape}] over ${axes ? `[${axes}]` : 'all axes'}`, ({ expect }) =>
        checkOp(expect, {
          gpu: ([x]) => ops[kind](x!, { axis: axes }),
          reference: ([x]) => R.reduceRef(kind, x!, shape, axes ?? shape.map((_, i) => i)).data,
          shapes: [shape],
          forward: [2e-5, 1e-5],
        }),
      ),
    ),
  ),
  check('keepDims keeps reduced axes as size 1', async ({ expect }) => {
    const s = ops.sum(ops.tensor([1, 2, 3, 4, 5, 6], [2, 3]), { axis: 1, keepDims: true });
    expect.equal(s.shape, [2, 1], 'shape');
    expect.equal(Array.from(await s.read()), [6, 15], 'values');
  }),
  check('argmax along an axis', async ({ expect }) => {
    const x = ops.tensor([0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 5, -1, 2, 0, 1, 4], [2, 2, 3]);
    expect.equal(Array.from(await ops.argmax(x, -1).read()), [1, 2, 0, 2], 'argmax over the last axis');
    expect.equal(Array.from(await ops.argmax(x, 0).read()), [1, 0, 1, 0, 1, 1], 'argmax over the first axis');
  }),
];

const matmuls: Check[] = [
  ...matmulCases.map(([as, bs, ta, tb]) => {
    const K = ta ? as[as.length - 2]! : as[as.length - 1]!;
    return check(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''}`, ({ expect }) =>
      checkOp(expect, {
        gpu: ([a, b]) => ops.matmul(a!, b!, { transA: ta, transB: tb }),
        reference: ([a, b]) =>
          as.length === 3 && bs.length === 2
            ? R.matmulRef(a!, [as[0]! * as[1]!, as[2]!], b!, bs, ta, tb)
            : R.matmulRef(a!, as, b!, bs, ta, tb),
        shapes: [as, bs],
        // K products summed in float32: error grows with K.
        forward: [1e-5 * K, 1e-5],
      }),
    );
  }),
  // The adapter picks one variant; each must be right on every adapter, whichever it picks.
  ...(['simple', 'blocked', 'tiled'] as MatmulVariant[]).map((variant) =>
    check(`kernel variant '${variant}', [37,45]ᵀ · [29,37]ᵀ`, async ({ expect }) => {
      const a = R.randomArray(45 * 37, 3);
      const b = R.randomArray(37 * 29, 4);
      const out = runGemm(ops.tensor(a, [37, 45]), ops.tensor(b, [29, 37]), { transA: true, transB: true, variant });
      expect.equal(out.shape, [45, 29], 'shape');
      expect.close(await out.read(), R.matmulRef(Float32Array.from(a), [37, 45], Float32Array.from(b), [29, 37], true, true), 37e-5, 1e-5, variant);
    }),
  ),
  check('linear = x·Wᵀ + b', ({ expect }) =>
    checkOp(expect, {
      gpu: ([x, w, b]) => ops.linear(x!, w!, b!),
      reference: ([x, w, b]) => R.binaryRef((p, q) => p + q, R.matmulRef(x!, [6, 5], w!, [3, 5], false, true), [6, 3], b!, [3]),
      shapes: [[6, 5], [3, 5], [3]],
    }),
  ),
];

const shapesAndSoftmax: Check[] = [
  check('permute [2,3,4] by (2,0,1)', ({ expect }) =>
    checkOp(expect, { gpu: ([x]) => ops.permute(x!, [2, 0, 1]), reference: ([x]) => R.permuteRef(x!, [2, 3, 4], [2, 0, 1]), shapes: [[2, 3, 4]] }),
  ),
  ...softmaxShapes.flatMap((shape) => [
    check(`softmax [${shape}]`, ({ expect }) =>
      checkOp(expect, { gpu: ([x]) => ops.softmax(x!), reference: ([x]) => R.softmaxRef(x!, shape, false), shapes: [shape], range: [-3, 3] }),
    ),
    check(`logSoftmax [${shape}]`, ({ expect }) =>
      checkOp(expect, { gpu: ([x]) => ops.logSoftmax(x!), reference: ([x]) => R.softmaxRef(x!, shape, true), shapes: [shape], range: [-3, 3] }),
    ),
  ]),
  check('softmax is stable for large logits', ({ expect }) =>
    checkOp(expect, { gpu: ([x]) => ops.softmax(x!), reference: ([x]) => R.softmaxRef(x!, [2, 4], false), shapes: [[2, 4]], range: [500, 600] }),
  ),
];

/** A classifier head's loss end to end: every rule on the path must be right for this to pass. */
const composite: Check[] = [
  check('cross-entropy of relu(x·W1ᵀ+b1)·W2ᵀ+b2 against finite differences', ({ expect }) => {
    const [n, d, h, c] = [5, 4, 6, 3];
    const target = Float64Array.from({ length: n * c }, (_, i) => (i % c === Math.floor(i / c) % c ? 1 : 0));
    const mlp = ([x, w1, b1, w2, b2]: Float64Array[]) => {
      const hidden = R.binaryRef((p, q) => Math.max(p + q, 0), R.matmulRef(x!, [n, d], w1!, [h, d], false, true), [n, h], b1!, [h]);
      const logits = R.binaryRef((p, q) => p + q, R.matmulRef(hidden, [n, h], w2!, [c, h], false, true), [n, c], b2!, [c]);
      const logp = R.softmaxRef(logits, [n, c], true);
      return Float64Array.of(-R.dot(logp, target) / n);
    };
    return checkOp(expect, {
      gpu: ([x, w1, b1, w2, b2]) => {
        const logits = ops.linear(ops.relu(ops.linear(x!, w1!, b1!)), w2!, b2!);
        return ops.neg(ops.scale(ops.sum(ops.mul(ops.logSoftmax(logits), ops.tensor(target, [n, c]))), 1 / n));
      },
      reference: mlp,
      shapes: [[n, d], [h, d], [h], [c, h], [c]],
      seed: 11,
    });
  }),
];

export const coreOps: CheckSuite = { name: 'core ops', checks: [...elementwise, ...reductions, ...matmuls, ...shapesAndSoftmax] };
export const autograd: CheckSuite = { name: 'autograd', checks: composite };

// One op against float64: its forward against a reference written on plain arrays, and the
// gradient of every input against central finite differences of that reference, through
// L = Σ op(x) ⊙ w for a random w. The same rule as test/helpers/gradcheck.ts, framework-free.
import { backward, mul, sum, tensor, tidy, type Tensor } from '../../src/index.js';
import { dot, finiteDifferences, randomArray, size, type Shape } from '../helpers/reference.js';
import type { CheckExpect } from './check.js';

export interface OpCheck {
  /** The operation on the GPU. */
  gpu: (inputs: Tensor[]) => Tensor;
  /** The same operation in float64 on the CPU. */
  reference: (inputs: Float64Array[]) => Float64Array;
  shapes: Shape[];
  /** Input value range (default [-1, 1)); `avoid` keeps values at least this far from 0 (kinks). */
  range?: [number, number];
  avoid?: number;
  seed?: number;
  /** Forward tolerance (absolute, relative). */
  forward?: [number, number];
  /** Gradient tolerance against finite differences (absolute, relative). */
  gradient?: [number, number];
}

export async function checkOp(expect: CheckExpect, check: OpCheck): Promise<void> {
  const [low, high] = check.range ?? [-1, 1];
  const seed = check.seed ?? 7;
  const values = check.shapes.map((s, i) => {
    const v = randomArray(size(s), seed + 101 * i, low, high);
    if (check.avoid) for (let k = 0; k < v.length; k++) if (Math.abs(v[k]!) < check.avoid) v[k] = v[k]! < 0 ? -check.avoid : check.avoid;
    return Float64Array.from(Float32Array.from(v)); // exactly what the GPU sees
  });
  const expected = check.reference(values);
  const weights = Float64Array.from(Float32Array.from(randomArray(expected.length, seed + 999)));

  const inputs = check.shapes.map((s, i) => tensor(values[i]!, s, { requiresGrad: true }));
  const y = check.gpu(inputs);
  const weightTensor = tensor(weights, y.shape);
  try {
    const [fa, fr] = check.forward ?? [1e-5, 1e-5];
    expect.close(await y.read(), expected, fa, fr, 'forward');
    // Backward inside the scope, so the scope frees the loss and what backward made on the way.
    tidy(() => backward(sum(mul(y, weightTensor))));

    const numeric = finiteDifferences((xs) => dot(check.reference(xs), weights), values);
    const [ga, gr] = check.gradient ?? [2e-4, 1e-3];
    for (let i = 0; i < inputs.length; i++) {
      const grad = inputs[i]!.grad;
      expect.ok(grad !== null, `input ${i} got no gradient`);
      expect.equal(grad!.shape, inputs[i]!.shape, `shape of the gradient of input ${i}`);
      expect.close(await grad!.read(), numeric[i]!, ga, gr, `gradient of input ${i}`);
    }
  } finally {
    for (const t of [...inputs, y, weightTensor]) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}

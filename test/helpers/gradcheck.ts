import { expect } from 'vitest';
import { tensor, mul, sum, backward, type Tensor } from '../../src/node.js';
import { expectClose } from './compare.js';
import { dot, finiteDifferences, randomArray, size, type Shape } from './reference.js';

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

/**
 * Checks an op's forward against its float64 reference and each input's gradient against
 * central finite differences of the reference, through L = Σ op(x) ⊙ w for a random w.
 */
export async function checkOp(check: OpCheck): Promise<void> {
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
  const [fa, fr] = check.forward ?? [1e-5, 1e-5];
  expectClose(await y.read(), expected, fa, fr, 'forward');
  const loss = sum(mul(y, tensor(weights, y.shape)));
  backward(loss);

  const numeric = finiteDifferences((xs) => dot(check.reference(xs), weights), values);
  const [ga, gr] = check.gradient ?? [2e-4, 1e-3];
  for (let i = 0; i < inputs.length; i++) {
    const grad = inputs[i]!.grad;
    expect(grad, `gradient of input ${i}`).not.toBeNull();
    expect(grad!.shape).toEqual(inputs[i]!.shape);
    expectClose(await grad!.read(), numeric[i]!, ga, gr, `gradient of input ${i}`);
  }
  for (const t of [...inputs, y, loss]) {
    t.grad?.dispose();
    t.dispose();
  }
}

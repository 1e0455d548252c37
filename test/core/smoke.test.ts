import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { tensor, add, linear, matmul, mul, sum, backward, relu, InputError, ShapeError } from '../../src/node.js';

describe('smoke', () => {
  it('adds, multiplies, differentiates', async () => {
    await testContext();
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const b = tensor([1, 0, 0, 1, 1, 1], [3, 2], { requiresGrad: true });
    const c = matmul(a, b);
    expect(Array.from(await c.read())).toEqual([4, 5, 10, 11]);
    const d = add(c, tensor([10], [1]));
    const loss = sum(d);
    expect(await loss.item()).toBe(70);
    backward(loss);
    expect(Array.from(await a.grad!.read())).toEqual([1, 1, 2, 1, 1, 2]);
    expect(Array.from(await b.grad!.read())).toEqual([5, 5, 7, 7, 9, 9]);
  });
});

describe('backward refuses what it cannot do, naming it', () => {
  it('a second pass through nodes whose saved tensors the first released', async () => {
    await testContext();
    const a = tensor([1, -2, 3], [3], { requiresGrad: true, name: 'a' });
    const loss = sum(mul(relu(a), a));
    backward(loss);
    expect(Array.from(await a.grad!.read())).toEqual([2, 0, 6]);
    expect(() => backward(loss)).toThrow(InputError);
    expect(() => backward(loss)).toThrow(/depends on a (mul|relu) that an earlier backward\(\) already went through/);
    expect(Array.from(await a.grad!.read())).toEqual([2, 0, 6]); // nothing was accumulated
    // A graph whose rules saved nothing can run again, as before: sums add up.
    const b = tensor([1, 2], [2], { requiresGrad: true });
    const total = sum(add(b, b));
    backward(total);
    backward(total);
    expect(Array.from(await b.grad!.read())).toEqual([4, 4]);
  });

  it('an explicit gradient of another shape than the tensor', async () => {
    await testContext();
    const a = tensor([1, 2, 3, 4, 5, 6], [3, 2], { requiresGrad: true });
    const y = mul(a, a);
    expect(() => backward(y, tensor([1, 1, 1, 1, 1, 1], [6], { name: 'g' }))).toThrow(ShapeError);
    expect(() => backward(y, tensor([1, 1, 1, 1, 1, 1], [6], { name: 'g' }))).toThrow(/gradient 'g' is \[6\], '.*' is \[3, 2\]/);
  });

  it('a non-scalar without a gradient (as PyTorch: ones would backpropagate its sum unasked)', async () => {
    await testContext();
    const a = tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = mul(a, a);
    expect(() => backward(y)).toThrow(InputError);
    expect(() => backward(y)).toThrow(/is \[3\], not a scalar/);
    expect(a.grad).toBeNull();
    backward(y, tensor([1, 0, 1], [3]));
    expect(Array.from(await a.grad!.read())).toEqual([2, 0, 6]);
    // One element is a scalar, whatever its shape.
    const b = tensor([3], [1, 1], { requiresGrad: true });
    backward(mul(b, b));
    expect(Array.from(await b.grad!.read())).toEqual([6]);
  });
});

describe('invalid shapes', () => {
  it('say which size is wrong, and show a long "shape" (arguments swapped) only in part', async () => {
    await testContext();
    expect(() => tensor([1, 2], [2.5])).toThrow(/invalid shape \[2\.5\]: sizes are whole numbers of at least 0, got 2\.5/);
    const swapped = () => tensor([2, 3] as number[], Array.from({ length: 100 }, (_, i) => i / 7));
    expect(swapped).toThrow(ShapeError);
    expect(swapped).toThrow(/\.\.\. \(100 sizes\)\]/);
    try {
      swapped();
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(300); // not the 100 sizes: 8 of them
    }
  });
});

describe('shape errors name the parameter', () => {
  it('linear: the weight, by name, with both shapes', async () => {
    await testContext();
    const w = tensor(new Float32Array(30), [3, 10], { name: 'classifier.6.weight' });
    expect(() => linear(tensor(new Float32Array(14), [2, 7]), w)).toThrow(/linear \(weight 'classifier\.6\.weight'\): input features .*\[2, 7\].*\[3, 10\]/);
  });
});

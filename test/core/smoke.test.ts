import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { tensor, add, matmul, sum, backward } from '../../src/node.js';

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

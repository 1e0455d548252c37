import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { fixtures } from '../optim/fixtures.js';
import { DTypeError, ShapeError, backward, scale, tensor } from '../../src/node.js';
import { accuracy, crossEntropy } from '../../src/ops/loss.js';

describe('crossEntropy against PyTorch', () => {
  it('matches F.cross_entropy (mean, with and without label smoothing) and its gradient', async () => {
    await testContext();
    for (const c of fixtures().cross_entropy) {
      const logits = tensor(c.logits.data, c.logits.shape, { requiresGrad: true });
      const labels = tensor(c.labels, [c.labels.length], { dtype: 'int32' });
      const loss = crossEntropy(logits, labels, { labelSmoothing: c.label_smoothing });
      expect(loss.shape).toEqual([]);
      backward(scale(loss, c.upstream));
      // float32 log-sum-exp on logits shifted by their row maximum: the loss is off by a few ulps
      // even for logits near 1000 (seen: 1.9e-6 on a loss of 37), the gradient by a few ulps of
      // the probabilities (seen: 4e-8). The bounds leave ~5x room for other adapters' exp/log.
      expectClose([await loss.item()], [c.loss], 1e-6, 1e-6, `${c.name}: loss`);
      expectClose(await logits.grad!.read(), c.grad_logits.data, 2e-7, 1e-6, `${c.name}: grad`);
      expect(await accuracy(logits, labels).item(), `${c.name}: correct count`).toBe(Math.round(c.accuracy * c.labels.length));
    }
  });
});

describe('crossEntropy', () => {
  it('takes labels from the CPU, checks them, and runs one kernel each way plus the mean', async () => {
    const ctx = await testContext();
    const logits = tensor([1, 2, 3, 4, 0, 0], [2, 3], { requiresGrad: true });
    ctx.recorder.resetStats();
    const loss = crossEntropy(logits, [2, 0]);
    expect(Object.fromEntries(ctx.recorder.stats.perKernel)).toEqual({ 'cross_entropy.forward': 1, 'reduce.sum': 1 });
    const expected = ((Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3) + (Math.log(Math.exp(4) + 2) - 4)) / 2;
    expect(await loss.item()).toBeCloseTo(expected, 6);
    ctx.recorder.resetStats();
    backward(loss);
    expect(ctx.recorder.stats.perKernel.get('cross_entropy.backward')).toBe(1);

    expect(() => crossEntropy(logits, [3, 0])).toThrow(/label 3 at row 0 is not a class index in \[0, 3\)/);
    expect(() => crossEntropy(logits, [-1, 0])).toThrow(RangeError);
    expect(() => crossEntropy(logits, [1])).toThrow(ShapeError);
    expect(() => crossEntropy(logits, tensor([1, 0], [2]))).toThrow(DTypeError);
  });

  it('gives a NaN loss and a zero gradient row for a GPU label out of range', async () => {
    await testContext();
    const logits = tensor([1, 2, 3, 4, 0, 0], [2, 3], { requiresGrad: true });
    const loss = crossEntropy(logits, tensor([7, 0], [2], { dtype: 'int32' }));
    expect(Number.isNaN(await loss.item())).toBe(true);
    backward(loss);
    const grad = Array.from(await logits.grad!.read());
    expect(grad.slice(0, 3)).toEqual([0, 0, 0]);
    expect(grad.slice(3).every((g) => Number.isFinite(g) && g !== 0)).toBe(true);
    expect(await accuracy(logits, tensor([7, 0], [2], { dtype: 'int32' })).item()).toBe(1);
  });

  it('counts correct rows over more rows than the workgroup has lanes, ties going to the first class', async () => {
    await testContext();
    const rows = 300;
    const classes = 4;
    const values: number[] = [];
    const labels: number[] = [];
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      const best = (r * 7) % classes;
      for (let j = 0; j < classes; j++) values.push(j === best ? 2 : (r % 5 === 0 && j === 3 ? 2 : 0));
      const tie = r % 5 === 0 && best !== 3;
      const label = r % 3 === 0 ? (best + 1) % classes : best;
      labels.push(label);
      // On a tie between `best` and 3, the first index wins.
      const argmax = tie ? Math.min(best, 3) : best;
      if (argmax === label) correct++;
    }
    expect(await accuracy(tensor(values, [rows, classes]), labels).item()).toBe(correct);
  });
});

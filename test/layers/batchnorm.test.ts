import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import type { ArrayFixture } from '../helpers/fixtures.js';
import { fixtures, type BatchNormCase } from '../optim/fixtures.js';
import { GpuContext, ShapeError, backward, createNodeGpu, randn, sum, mul, tensor, zeroGrad, type Tensor } from '../../src/node.js';
import { batchNorm2d } from '../../src/ops/batchnorm.js';
import type { BatchNormVariant } from '../../src/kernels/batchnorm.js';

const fromFixture = (f: ArrayFixture, requiresGrad = false, ctx?: GpuContext): Tensor => tensor(f.data, f.shape, { requiresGrad, ctx });

// Tolerances against PyTorch's float64 for float32 arithmetic. Outputs and running statistics:
// a few ulps of the inputs and of each per-channel sum; the largest seen is 8.5e-6 in the case
// whose inputs sit near 50 (one ulp of 50 is 3.8e-6), so atol 2e-5 + rtol 1e-5. Gradients go
// through a second reduction and a difference of two sums: seen up to 4.2e-5 on weight gradients
// of magnitude ~500 (8e-8 relative), so atol 5e-5 + rtol 1e-4.
const VALUE_TOL = [2e-5, 1e-5] as const;
const GRAD_TOL = [5e-5, 1e-4] as const;

async function runCase(c: BatchNormCase, variant: BatchNormVariant): Promise<void> {
  const weight = c.weight ? fromFixture(c.weight, true) : null;
  const bias = c.bias ? fromFixture(c.bias, true) : null;
  const runningMean = fromFixture(c.running_mean);
  const runningVar = fromFixture(c.running_var);
  const params = [weight, bias].filter((t): t is Tensor => t !== null);
  const steps = [...c.train_steps.map((s) => ({ s, training: true })), { s: c.eval, training: false }];
  for (const [index, { s, training }] of steps.entries()) {
    const what = `${c.name} ${training ? `train step ${index}` : 'eval'}`;
    zeroGrad(params);
    const x = fromFixture(s.x, true);
    const y = batchNorm2d(x, weight, bias, runningMean, runningVar, { training, momentum: c.momentum, eps: c.eps, variant });
    backward(y, fromFixture(s.grad_output));
    expectClose(await y.read(), s.y.data, ...VALUE_TOL, `${what}: y`);
    expectClose(await x.grad!.read(), s.grad_input.data, ...GRAD_TOL, `${what}: grad input`);
    if (weight) expectClose(await weight.grad!.read(), s.grad_weight!.data, ...GRAD_TOL, `${what}: grad weight`);
    if (bias) expectClose(await bias.grad!.read(), s.grad_bias!.data, ...GRAD_TOL, `${what}: grad bias`);
    if (s.running_mean) expectClose(await runningMean.read(), s.running_mean.data, ...VALUE_TOL, `${what}: running mean`);
    if (s.running_var) expectClose(await runningVar.read(), s.running_var!.data, ...VALUE_TOL, `${what}: running var`);
  }
}

describe('batchNorm2d against PyTorch', () => {
  for (const variant of ['lanes', 'tree'] as const) {
    it(`matches torch.nn.BatchNorm2d in training and eval (${variant} layout)`, async () => {
      await testContext();
      for (const c of fixtures().batchnorm) await runCase(c, variant);
    });
  }
});

describe('batchNorm2d', () => {
  it('has an input gradient that agrees with finite differences', async () => {
    await testContext();
    const shape = [2, 3, 2, 3];
    const x0 = Array.from(await randn(shape, 7).read());
    const probe = randn(shape, 8); // loss = Σ y·probe, so dL/dy = probe
    const weight = tensor([1.5, -0.7, 0.9], [3]);
    const bias = tensor([0.1, 0.2, -0.3], [3]);
    const loss = async (values: number[]) => {
      const y = batchNorm2d(tensor(values, shape), weight, bias, tensor([0, 0, 0], [3]), tensor([1, 1, 1], [3]), { training: true });
      return (await sum(mul(y, probe)).item()) as number;
    };
    const x = tensor(x0, shape, { requiresGrad: true });
    backward(sum(mul(batchNorm2d(x, weight, bias, tensor([0, 0, 0], [3]), tensor([1, 1, 1], [3]), { training: true }), probe)));
    const analytic = await x.grad!.read();
    // Central differences of a float32 forward: h = 1e-2 keeps the rounding error of the loss
    // (~1e-6) small against 2h, and the truncation error O(h²) is of the same size.
    const h = 1e-2;
    const numeric: number[] = [];
    for (let i = 0; i < x0.length; i++) {
      const plus = [...x0];
      const minus = [...x0];
      plus[i]! += h;
      minus[i]! -= h;
      numeric.push(((await loss(plus)) - (await loss(minus))) / (2 * h));
    }
    expectClose(analytic, numeric, 2e-3, 1e-2, 'dL/dx');
  });

  it('updates running statistics and computes gradients the same when the tensor is split across bindings', async () => {
    const big = await testContext();
    // 16 KiB bindings hold 5 images of 3x16x16: the reductions and the element-wise kernels run
    // in 2 runs of images.
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 16384 });
    const shape = [8, 3, 16, 16];
    const xData = await randn(shape, 11, { ctx: big, mean: 2 }).read();
    const gData = await randn(shape, 12, { ctx: big }).read();
    const results: { partials: number; values: ArrayLike<number>[] }[] = [];
    for (const ctx of [big, small]) {
      ctx.recorder.resetStats();
      const weight = tensor([1, 2, 3], [3], { ctx, requiresGrad: true });
      const bias = tensor([0, -1, 1], [3], { ctx, requiresGrad: true });
      const runningMean = tensor([0, 0, 0], [3], { ctx });
      const runningVar = tensor([1, 1, 1], [3], { ctx });
      const x = tensor(xData, shape, { ctx, requiresGrad: true });
      const y = batchNorm2d(x, weight, bias, runningMean, runningVar, { training: true });
      backward(y, tensor(gData, shape, { ctx }));
      const dispatches = ctx.recorder.stats.perKernel;
      const partials = [...dispatches].filter(([name]) => name.startsWith('batchnorm.partial_stats')).reduce((n, [, count]) => n + count, 0);
      results.push({
        partials,
        values: await Promise.all([y, x.grad!, weight.grad!, bias.grad!, runningMean, runningVar].map((t) => t.read())),
      });
    }
    expect(results[0]!.partials).toBe(1);
    expect(results[1]!.partials).toBe(2);
    // Split runs add the same values in another order: equal up to float32 rounding.
    const names = ['y', 'grad input', 'grad weight', 'grad bias', 'running mean', 'running var'];
    results[1]!.values.forEach((v, i) => expectClose(v, results[0]!.values[i]!, 2e-6, 2e-6, names[i]));
    small.destroy();
  });

  it('dispatches three kernels each way in training, and in eval only what is needed', async () => {
    const ctx = await testContext();
    const shape = [2, 4, 3, 3];
    const weight = tensor([1, 2, 3, 4], [4], { requiresGrad: true });
    const bias = tensor([0, 0, 0, 0], [4], { requiresGrad: true });
    const runningMean = tensor([0, 0, 0, 0], [4]);
    const runningVar = tensor([1, 1, 1, 1], [4]);
    const count = () => [...ctx.recorder.stats.perKernel.values()].reduce((a, b) => a + b, 0);

    const x = randn(shape, 3, { requiresGrad: true });
    ctx.recorder.resetStats();
    const y = batchNorm2d(x, weight, bias, runningMean, runningVar, { training: true });
    expect(count()).toBe(3);
    ctx.recorder.resetStats();
    backward(sum(y));
    expect([...ctx.recorder.stats.perKernel.keys()].filter((k) => k.startsWith('batchnorm')).length).toBe(3);

    // Frozen layer in eval mode (a fine-tuned base): only dx, one dispatch, and x is not kept.
    weight.requiresGrad = false;
    bias.requiresGrad = false;
    const x2 = randn(shape, 4, { requiresGrad: true });
    ctx.recorder.resetStats();
    const y2 = batchNorm2d(x2, weight, bias, runningMean, runningVar, { training: false });
    expect(count()).toBe(2);
    expect(y2.gradFn!.saved.length).toBe(1);
    ctx.recorder.resetStats();
    backward(y2, randn(shape, 5));
    expect(Object.fromEntries(ctx.recorder.stats.perKernel)).toMatchObject({ 'batchnorm.backward_input.eval': 1 });
    expect([...ctx.recorder.stats.perKernel.keys()].filter((k) => k.startsWith('batchnorm'))).toEqual(['batchnorm.backward_input.eval']);

    // Nothing needs a gradient: no graph, but training still updates the running statistics.
    const before = Array.from(await runningMean.read());
    const y3 = batchNorm2d(randn(shape, 6, { mean: 5 }), weight, bias, runningMean, runningVar, { training: true });
    expect(y3.requiresGrad).toBe(false);
    expect(Array.from(await runningMean.read())).not.toEqual(before);
  });

  it('works without weight and bias, and refuses one value per channel in training', async () => {
    await testContext();
    const x = randn([3, 2, 2, 2], 9, { requiresGrad: true });
    const y = batchNorm2d(x, null, null, tensor([0, 0], [2]), tensor([1, 1], [2]), { training: true });
    const values = await y.read();
    // Each channel normalised to mean 0 and biased variance 1 (up to eps).
    for (let c = 0; c < 2; c++) {
      const channel = [0, 1, 2].flatMap((n) => Array.from(values.slice((n * 2 + c) * 4, (n * 2 + c) * 4 + 4)));
      const mean = channel.reduce((a, b) => a + b, 0) / channel.length;
      const variance = channel.reduce((a, b) => a + (b - mean) ** 2, 0) / channel.length;
      expect(Math.abs(mean)).toBeLessThan(1e-6);
      expect(variance).toBeCloseTo(1, 3);
    }
    expect(() => batchNorm2d(randn([1, 2, 1, 1], 1), null, null, tensor([0, 0], [2]), tensor([1, 1], [2]), { training: true })).toThrow(ShapeError);
    expect(() => batchNorm2d(randn([2, 3, 2, 2], 1), null, null, tensor([0, 0], [2]), tensor([1, 1], [2]), { training: false })).toThrow(/one value per channel/);
  });
});

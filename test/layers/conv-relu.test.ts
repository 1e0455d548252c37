import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { randomArray } from '../helpers/reference.js';
import {
  Conv2d, GpuContext, ReLU, Sequential, backward, conv2d, conv2dRelu, createNodeGpu, relu, tensor, type Tensor,
} from '../../src/node.js';

// conv2dRelu against the two operations it fuses, to the bit, on both kernel families.

const bits = async (t: Tensor) => Buffer.from((await t.read()).buffer);
const dispatches = (ctx: GpuContext, pattern: RegExp) =>
  [...ctx.recorder.stats.perKernel].filter(([name]) => pattern.test(name)).reduce((n, [, count]) => n + count, 0);

let cpu: GpuContext;
let gpu: GpuContext;
beforeAll(async () => {
  cpu = await testContext();
  gpu = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
});
afterAll(() => gpu.destroy());

describe('conv2dRelu', () => {
  // For the GPU family, 40 output channels and 2x16x16 outputs: its tiled kernel. For the CPU
  // one, small enough that lavapipe compiles its unrolled kernels quickly.
  for (const [target, size, channels] of [['cpu', 6, 8], ['gpu', 16, 40]] as const) {
    it(`gives relu(conv2d) bit for bit, forward and gradients, with one dispatch fewer (${target} kernels)`, async () => {
      const ctx = target === 'cpu' ? cpu : gpu;
      const leaf = (shape: number[], seed: number) => tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape, { ctx, requiresGrad: true });
      const run = async (fused: boolean) => {
        const [x, w, b] = [leaf([2, 6, size, size], 1), leaf([channels, 6, 3, 3], 2), leaf([channels], 3)];
        const before = { relu: dispatches(ctx, /^unary\.relu$/), conv: dispatches(ctx, /^conv2d\.forward/) };
        const y = fused ? conv2dRelu(x, w, b, { padding: 1 }) : relu(conv2d(x, w, b, { padding: 1 }));
        const forward = { relu: dispatches(ctx, /^unary\.relu$/) - before.relu, conv: dispatches(ctx, /^conv2d\.forward/) - before.conv };
        const dy = tensor(randomArray(y.size, 4), y.shape, { ctx });
        backward(y, dy);
        return { forward, y: await bits(y), dx: await bits(x.grad!), dw: await bits(w.grad!), db: await bits(b.grad!) };
      };
      const fused = await run(true);
      const separate = await run(false);
      expect(fused.forward).toEqual({ relu: 0, conv: 1 });
      expect(separate.forward).toEqual({ relu: 1, conv: 1 });
      expect(fused.y.some((byte) => byte !== 0)).toBe(true);
      for (const key of ['y', 'dx', 'dw', 'db'] as const) expect(fused[key].equals(separate[key]), key).toBe(true);
    });
  }

  it('is what Sequential runs for a Conv2d followed by a ReLU, and only then', async () => {
    const x = tensor(randomArray(2 * 3 * 8 * 8, 5), [2, 3, 8, 8], { ctx: cpu });
    class LeakyLikeReLU extends ReLU {}
    const [a, b] = [new Conv2d(3, 3, 3, { padding: 1, ctx: cpu }), new Conv2d(3, 3, 3, { padding: 1, ctx: cpu })];
    // The epilogue that stores max(y, 0): the direct kernel's, or Winograd's output transform (WGT_CONV_ALGORITHM=winograd).
    const fusedKernels = () => dispatches(cpu, /^conv2d\.(forward\.(blocked|tiled)|winograd\.output).*\.relu$/);
    const before = { fused: fusedKernels(), relu: dispatches(cpu, /^unary\.relu$/) };
    const y = new Sequential(a, new ReLU(), b, new LeakyLikeReLU()).forward(x);
    expect([fusedKernels() - before.fused, dispatches(cpu, /^unary\.relu$/) - before.relu]).toEqual([1, 1]);
    const expected = relu(b.forward(relu(a.forward(x))));
    expect((await bits(y)).equals(await bits(expected))).toBe(true);
  });
});

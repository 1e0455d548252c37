import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { checkOp } from '../helpers/gradcheck.js';
import { loadFixture, type ArrayFixture } from '../helpers/fixtures.js';
import { randomArray } from '../helpers/reference.js';
import {
  GpuContext, ShapeError, adaptiveAvgPool2d, avgPool2d, backward, createNodeGpu, maxPool2d, noGrad, tensor, type Tensor,
} from '../../src/node.js';

interface PoolCase {
  name: string;
  kernelSize?: number;
  stride?: number;
  padding?: number;
  outputSize?: [number, number];
  x: ArrayFixture;
  dy: ArrayFixture;
  y: ArrayFixture;
  dx: ArrayFixture;
}

const fixtures = loadFixture<Record<'maxPool2d' | 'avgPool2d' | 'adaptiveAvgPool2d', PoolCase[]>>('make_conv_pool_fixtures.py', 'conv_pool.json');

// Max pooling picks one input per window and backward adds at most KH·KW = 9 float32 values of
// dy, so results are exact or within a few ulps of 9 (1e-6). Averages divide sums of ≤ 99
// values below 1 by the window size: a few ulps, 1e-6 absolute.
const TOL = [1e-6, 1e-6] as const;

const ops: Record<keyof typeof fixtures, (x: Tensor, c: PoolCase) => Tensor> = {
  maxPool2d: (x, c) => maxPool2d(x, { kernelSize: c.kernelSize!, stride: c.stride, padding: c.padding }),
  avgPool2d: (x, c) => avgPool2d(x, { kernelSize: c.kernelSize!, stride: c.stride, padding: c.padding }),
  adaptiveAvgPool2d: (x, c) => adaptiveAvgPool2d(x, c.outputSize!),
};

const perKernel = (ctx: GpuContext, name: string) => ctx.recorder.stats.perKernel.get(name) ?? 0;

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

describe('pooling against PyTorch', () => {
  for (const op of Object.keys(ops) as (keyof typeof ops)[]) {
    it.each(fixtures[op].map((c) => [c.name, c] as const))(`${op} %s: forward and input gradient`, async (_, c) => {
      const x = tensor(c.x.data, c.x.shape, { requiresGrad: true });
      const y = ops[op](x, c);
      expect(y.shape).toEqual(c.y.shape);
      expectClose(await y.read(), c.y.data, ...TOL, 'y');
      backward(y, tensor(c.dy.data, c.dy.shape));
      expectClose(await x.grad!.read(), c.dx.data, ...TOL, 'dx');
      x.grad!.dispose();
      x.dispose();
      y.dispose();
    });
  }
});

/** Pooling in float64 on plain arrays: `windows(o, in, out)` gives [start, end) along one axis. */
function poolReference(x: Float64Array, shape: readonly number[], out: [number, number], reduce: 'max' | 'mean', window: (o: number, size: number, outSize: number) => [number, number], countPadding: number): Float64Array {
  const [n, c, h, w] = shape as [number, number, number, number];
  const y = new Float64Array(n * c * out[0] * out[1]);
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < out[0]; i++)
      for (let j = 0; j < out[1]; j++) {
        const [r0, r1] = window(i, h, out[0]);
        const [c0, c1] = window(j, w, out[1]);
        let acc = reduce === 'max' ? -Infinity : 0;
        for (let r = Math.max(r0, 0); r < Math.min(r1, h); r++)
          for (let q = Math.max(c0, 0); q < Math.min(c1, w); q++) {
            const v = x[(plane * h + r) * w + q]!;
            acc = reduce === 'max' ? Math.max(acc, v) : acc + v;
          }
        y[(plane * out[0] + i) * out[1] + j] = reduce === 'max' ? acc : acc / (countPadding ? countPadding : (r1 - r0) * (c1 - c0));
      }
  return y;
}

describe('pooling', () => {
  // GPU gradients against central finite differences of float64 references (step 1e-6). Inputs
  // are random, so no two values in a max window tie (where max is not differentiable).
  const shape = [1, 2, 5, 6];
  const fixed = (k: number, s: number, p: number) => (o: number): [number, number] => [o * s - p, o * s - p + k];
  it('maxPool2d (3x3, stride 2, padding 1) agrees with finite differences', async () => {
    await checkOp({ shapes: [shape], gpu: ([x]) => maxPool2d(x!, { kernelSize: 3, stride: 2, padding: 1 }), reference: ([x]) => poolReference(x!, shape, [3, 3], 'max', fixed(3, 2, 1), 0), gradient: [1e-5, 1e-5] });
  });
  it('avgPool2d (3x3, stride 2, padding 1) agrees with finite differences', async () => {
    await checkOp({ shapes: [shape], gpu: ([x]) => avgPool2d(x!, { kernelSize: 3, stride: 2, padding: 1 }), reference: ([x]) => poolReference(x!, shape, [3, 3], 'mean', fixed(3, 2, 1), 9), gradient: [1e-5, 1e-5] });
  });
  it('adaptiveAvgPool2d (5x6 to 7x4) agrees with finite differences', async () => {
    const adaptive = (o: number, size: number, outSize: number): [number, number] => [Math.floor((o * size) / outSize), Math.ceil(((o + 1) * size) / outSize)];
    await checkOp({ shapes: [shape], gpu: ([x]) => adaptiveAvgPool2d(x!, [7, 4]), reference: ([x]) => poolReference(x!, shape, [7, 4], 'mean', adaptive, 0), gradient: [1e-5, 1e-5] });
  });

  it('adaptiveAvgPool2d to its own size is its input, as a view: no kernel forward or backward, the gradient passed through', async () => {
    const values = randomArray(2 * 3 * 7 * 7, 17);
    const dyValues = randomArray(values.length, 18);
    const x = tensor(values, [2, 3, 7, 7], { requiresGrad: true });
    ctx.recorder.resetStats();
    const y = adaptiveAvgPool2d(x, [7, 7]);
    backward(y, tensor(dyValues, [2, 3, 7, 7]));
    expect(ctx.recorder.stats.perKernel.get('pool.adaptive_avg.forward') ?? 0).toBe(0);
    expect(ctx.recorder.stats.perKernel.get('pool.adaptive_avg.backward') ?? 0).toBe(0);
    expect(y.buffer).toBe(x.buffer);
    expect(Array.from(await y.read())).toEqual(Array.from(Float32Array.from(values)));
    expect(Array.from(await x.grad!.read())).toEqual(Array.from(Float32Array.from(dyValues)));
    x.grad!.dispose();
    x.dispose();
  });

  it('maxPool2d keeps argmax indices only when backward will need them', async () => {
    const values = randomArray(2 * 3 * 4 * 4, 5);
    const run = (requiresGrad: boolean, grad: boolean) => {
      const x = tensor(values, [2, 3, 4, 4], { requiresGrad });
      ctx.recorder.resetStats();
      const y = grad ? maxPool2d(x, { kernelSize: 2 }) : noGrad(() => maxPool2d(x, { kernelSize: 2 }));
      const result = { indices: perKernel(ctx, 'pool.max.forward_indices'), plain: perKernel(ctx, 'pool.max.forward'), saved: y.gradFn?.saved.map((t) => t.dtype) ?? [] };
      x.dispose();
      y.dispose();
      return result;
    };
    expect(run(true, true)).toEqual({ indices: 1, plain: 0, saved: ['int32'] });
    expect(run(false, true)).toEqual({ indices: 0, plain: 1, saved: [] });
    expect(run(true, false)).toEqual({ indices: 0, plain: 1, saved: [] });
  });

  it("maxPool2d's backward goes window by window where the windows tile the input, and searches for covering windows elsewhere", async () => {
    const kernelsOfBackward = (shape: number[], kernelSize: number, stride: number, padding: number) => {
      const x = tensor(randomArray(shape.reduce((a, b) => a * b), 12), shape, { requiresGrad: true });
      const y = maxPool2d(x, { kernelSize, stride, padding });
      ctx.recorder.resetStats();
      backward(y, tensor(randomArray(y.size, 13), y.shape));
      const ran = { tiled: perKernel(ctx, 'pool.max.backward.tiled'), search: perKernel(ctx, 'pool.max.backward') };
      for (const t of [x.grad!, x, y]) t.dispose();
      return ran;
    };
    expect(kernelsOfBackward([1, 2, 8, 6], 2, 2, 0)).toEqual({ tiled: 1, search: 0 }); // VGG's pools on even sizes
    expect(kernelsOfBackward([1, 2, 8, 7], 2, 2, 0)).toEqual({ tiled: 0, search: 1 }); // a column left over
    expect(kernelsOfBackward([1, 2, 9, 8], 3, 2, 1)).toEqual({ tiled: 0, search: 1 }); // ResNet's overlapping windows
  });

  it('pools tensors larger than one binding in runs of planes', async () => {
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 1024 });
    try {
      const shape = [3, 4, 6, 6]; // 144 bytes per plane, 1728 in all
      const values = randomArray(3 * 4 * 6 * 6, 9);
      const dys = { max: randomArray(3 * 4 * 3 * 3, 10), adaptive: randomArray(3 * 4 * 7 * 7, 11) };
      const both = async (c: GpuContext | undefined) => {
        const x = tensor(values, shape, { ctx: c, requiresGrad: true });
        const m = maxPool2d(x, { kernelSize: 2 });
        backward(m, tensor(dys.max, m.shape, { ctx: c }));
        const a = adaptiveAvgPool2d(x, 7);
        backward(a, tensor(dys.adaptive, a.shape, { ctx: c }));
        return [await m.read(), await a.read(), await x.grad!.read()];
      };
      small.recorder.resetStats();
      const split = await both(small);
      expect(perKernel(small, 'pool.max.forward_indices')).toBeGreaterThan(1);
      expect(perKernel(small, 'pool.max.backward.tiled')).toBeGreaterThan(1);
      expect(perKernel(small, 'pool.adaptive_avg.backward')).toBeGreaterThan(1);
      const whole = await both(undefined);
      split.forEach((values, i) => expectClose(values, whole[i]!, 1e-6, 1e-6, `result ${i}`));
    } finally {
      small.destroy();
    }
  });

  it('refuses bad shapes and windows with clear errors', () => {
    const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4], { name: 'features.4.input' });
    expect(() => maxPool2d(tensor(new Float32Array(12), [3, 4]), { kernelSize: 2 })).toThrow(ShapeError);
    expect(() => maxPool2d(tensor(new Float32Array(12), [3, 4]), { kernelSize: 2 })).toThrow(/maxPool2d.*4-D.*\[3, 4\]/);
    expect(() => maxPool2d(x, { kernelSize: 5 })).toThrow(/maxPool2d: the 5x5 window is larger than the padded input 4x4.*\[2, 3, 4, 4\]/);
    expect(() => avgPool2d(x, { kernelSize: 2, padding: 2 })).toThrow(/padding \(2,2\).*half the kernel/);
    expect(() => adaptiveAvgPool2d(x, [0, 7])).toThrow(/output size/);
  });
});

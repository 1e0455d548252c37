import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { checkOp } from '../helpers/gradcheck.js';
import { loadFixture, type ArrayFixture } from '../helpers/fixtures.js';
import { randomArray } from '../helpers/reference.js';
import {
  BindingLimitError, GpuContext, ShapeError, backward, conv2d, createNodeGpu, noGrad, tensor, type Tensor,
} from '../../src/node.js';
import { runConv2dForward, runConv2dInputGrad, type ConvVariant } from '../../src/kernels/conv2d-implicit-gemm.js';
import { chooseConvTile } from '../../src/kernels/conv2d-tile.js';
import { chooseWeightGradVariant, runConv2dWeightGrad, type WeightGradVariant } from '../../src/kernels/conv2d-weight-grad.js';
import { runConv2dBiasGrad } from '../../src/kernels/conv2d-bias-grad.js';
import { sharingLanes } from '../../src/kernels/subgroup-share.js';
import { convOutputSize, type Conv2dGeometry } from '../../src/kernels/conv2d-common.js';

interface ConvCase {
  name: string;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  x: ArrayFixture;
  weight: ArrayFixture;
  bias: ArrayFixture | null;
  dy: ArrayFixture;
  y: ArrayFixture;
  dx: ArrayFixture;
  dweight: ArrayFixture;
  dbias: ArrayFixture | null;
}

const cases = loadFixture<{ conv2d: ConvCase[] }>('make_conv_pool_fixtures.py', 'conv_pool.json').conv2d;

// Tolerances against PyTorch's float64 (same float32-rounded inputs). Each output is a float32
// sum of at most 32·3·3 = 288 products (forward, input gradient) or 2·9·9 = 162 products (weight
// gradient) of values below 1; rounding grows with the number of terms, about 1e-7 relative per
// term in the worst case. atol 1e-5 + rtol 1e-5 leaves a margin without hiding a wrong tap (which
// is off by a whole product, ~0.1).
const TOL = [1e-5, 1e-5] as const;

const fromFixture = (f: ArrayFixture, options: { requiresGrad?: boolean; name?: string; ctx?: GpuContext } = {}): Tensor =>
  tensor(f.data, f.shape, options);

function geometryOf(c: ConvCase): Conv2dGeometry {
  const [batch, inChannels, inH, inW] = c.x.shape as [number, number, number, number];
  const [outChannels, , kernelH, kernelW] = c.weight.shape as [number, number, number, number];
  return {
    batch, inChannels, inH, inW, outChannels, kernelH, kernelW,
    outH: convOutputSize(inH, kernelH, c.stride[0], c.padding[0], c.dilation[0]),
    outW: convOutputSize(inW, kernelW, c.stride[1], c.padding[1], c.dilation[1]),
    strideH: c.stride[0], strideW: c.stride[1], padH: c.padding[0], padW: c.padding[1],
    dilationH: c.dilation[0], dilationW: c.dilation[1], groups: c.groups,
  };
}

const perKernel = (ctx: GpuContext, prefix: string) =>
  [...ctx.recorder.stats.perKernel].filter(([name]) => name.startsWith(prefix)).reduce((n, [, count]) => n + count, 0);
/** The weight-gradient kernel itself: where it splits the batch, a sum of its partial results follows it. */
const weightGradKernels = (ctx: GpuContext) => perKernel(ctx, 'conv2d.weight_grad') - perKernel(ctx, 'conv2d.weight_grad.sum_partials');

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

describe('conv2d against PyTorch', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: forward and the gradients of x, weight and bias', async (_, c) => {
    const x = fromFixture(c.x, { requiresGrad: true });
    const weight = fromFixture(c.weight, { requiresGrad: true });
    const bias = c.bias ? fromFixture(c.bias, { requiresGrad: true }) : undefined;
    const y = conv2d(x, weight, bias, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
    expect(y.shape).toEqual(c.y.shape);
    expectClose(await y.read(), c.y.data, ...TOL, 'y');
    backward(y, fromFixture(c.dy));
    expectClose(await x.grad!.read(), c.dx.data, ...TOL, 'dx');
    expectClose(await weight.grad!.read(), c.dweight.data, ...TOL, 'dweight');
    if (bias) expectClose(await bias.grad!.read(), c.dbias!.data, ...TOL, 'dbias');
    for (const t of [x, weight, bias, y]) {
      t?.grad?.dispose();
      t?.dispose();
    }
  });

  // The op picks the variant for the adapter; check the other one directly on the same cases.
  // Among them the cases with channels in blocks of 16, which the tiled kernel walks in its own order.
  const other = (): ConvVariant => (ctx.kernelTarget === 'cpu' ? 'tiled' : 'blocked');
  const variantCases = cases.filter((c, i) => i < 2 || c.groups > 1 || c.name.includes('16'));
  it.each(variantCases.map((c) => [c.name, c] as const))(
    '%s: the other kernel variant agrees too (forward and input gradient)',
    async (_, c) => {
      const g = geometryOf(c);
      const x = fromFixture(c.x);
      const weight = fromFixture(c.weight);
      const bias = c.bias ? fromFixture(c.bias) : undefined;
      const y = runConv2dForward(x, weight, bias, g, { variant: other() });
      expectClose(await y.read(), c.y.data, ...TOL, `y (${other()})`);
      const dx = runConv2dInputGrad(fromFixture(c.dy), weight, g, { variant: other() });
      expectClose(await dx.read(), c.dx.data, ...TOL, `dx (${other()})`);
    },
  );

  it('every tile of the tiled kernel agrees (forward and input gradient)', async () => {
    const tiles = [
      { channels: 64, pixels: 64, depth: 32 },
      { channels: 128, pixels: 64, depth: 16 },
      { channels: 64, pixels: 128, depth: 16 },
      { channels: 128, pixels: 128, depth: 16 },
      { channels: 64, pixels: 128, depth: 32 },
    ] as const;
    for (const tile of tiles) {
      const name = `${tile.channels}x${tile.pixels}x${tile.depth}`;
      const tiled = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu', convTile: tile });
      try {
        for (const c of variantCases) {
          const g = geometryOf(c);
          const on = (f: ArrayFixture) => fromFixture(f, { ctx: tiled });
          const y = runConv2dForward(on(c.x), on(c.weight), c.bias ? on(c.bias) : undefined, g, { variant: 'tiled' });
          expectClose(await y.read(), c.y.data, ...TOL, `${c.name}: y (tile ${name})`);
          const dx = runConv2dInputGrad(on(c.dy), on(c.weight), g, { variant: 'tiled' });
          expectClose(await dx.read(), c.dx.data, ...TOL, `${c.name}: dx (tile ${name})`);
        }
        expect(perKernel(tiled, `conv2d.forward.tiled${name}`)).toBeGreaterThan(0);
      } finally {
        tiled.destroy();
      }
    }
  });

  it('the tiled kernel agrees in either reduction order (16-channel blocks, or channel then tap)', async () => {
    for (const convOrder of ['blocks', 'plain'] as const) {
      const tiled = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu', convOrder });
      try {
        for (const c of cases.filter((c) => c.name.includes('blocks of 16') || c.name.includes('groups of 16'))) {
          const g = geometryOf(c);
          const on = (f: ArrayFixture) => fromFixture(f, { ctx: tiled });
          const y = runConv2dForward(on(c.x), on(c.weight), c.bias ? on(c.bias) : undefined, g, { variant: 'tiled' });
          expectClose(await y.read(), c.y.data, ...TOL, `${c.name}: y (${convOrder})`);
          const dx = runConv2dInputGrad(on(c.dy), on(c.weight), g, { variant: 'tiled' });
          expectClose(await dx.read(), c.dx.data, ...TOL, `${c.name}: dx (${convOrder})`);
        }
        // Blocks gather the filters in their order for both passes; the plain order only for the input gradient.
        expect(perKernel(tiled, 'conv2d.filter_matrix.blocks')).toBe(convOrder === 'blocks' ? 4 : 0);
        expect(perKernel(tiled, 'conv2d.filter_matrix')).toBe(convOrder === 'blocks' ? 4 : 2);
      } finally {
        tiled.destroy();
      }
    }
  });

  it("Winograd's F(2x2, 3x3) agrees on every 3x3 stride-1 case, with either kernel family for its product", async () => {
    const applicable = cases.filter((c) => c.weight.shape[2] === 3 && c.weight.shape[3] === 3 && c.stride.every((v) => v === 1) && c.dilation.every((v) => v === 1) && c.groups === 1);
    expect(applicable.length).toBeGreaterThanOrEqual(5);
    const gpu = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
    try {
      for (const on of [ctx, gpu]) {
        const before = perKernel(on, 'conv2d.winograd.output');
        for (const c of applicable) {
          const g = geometryOf(c);
          const t = (f: ArrayFixture) => fromFixture(f, { ctx: on });
          const y = runConv2dForward(t(c.x), t(c.weight), c.bias ? t(c.bias) : undefined, g, { algorithm: 'winograd' });
          expectClose(await y.read(), c.y.data, ...TOL, `${c.name}: y (Winograd, ${on.kernelTarget} kernels)`);
          const dx = runConv2dInputGrad(t(c.dy), t(c.weight), g, { algorithm: 'winograd' });
          expectClose(await dx.read(), c.dx.data, ...TOL, `${c.name}: dx (Winograd, ${on.kernelTarget} kernels)`);
        }
        expect(perKernel(on, 'conv2d.winograd.output') - before).toBe(2 * applicable.length);
      }
    } finally {
      gpu.destroy();
    }
  });

  it('Winograd leaves the layers it does not apply to to the direct kernels', async () => {
    const strided = cases.find((c) => c.stride[0] === 2 && c.weight.shape[2] === 3)!;
    const before = perKernel(ctx, 'conv2d.winograd');
    const y = runConv2dForward(fromFixture(strided.x), fromFixture(strided.weight), strided.bias ? fromFixture(strided.bias) : undefined, geometryOf(strided), { algorithm: 'winograd' });
    expectClose(await y.read(), strided.y.data, ...TOL, 'y (stride 2: direct)');
    expect(perKernel(ctx, 'conv2d.winograd')).toBe(before);
  });

  it('refuses a tile whose staged operands exceed the workgroup memory, naming the bytes', () => {
    // Padded weight rows: 16 bytes · 16 steps · (128 / 4 + 1 + 128 / 4) vec4s = 16640 bytes.
    const small = { convTile: { channels: 128, pixels: 128, depth: 16 }, limits: { maxComputeWorkgroupStorageSize: 16384 } } as unknown as GpuContext;
    expect(() => chooseConvTile(small)).toThrow(/128x128x16 stages 16640 bytes; this adapter allows 16384/);
    const enough = { ...small, limits: { maxComputeWorkgroupStorageSize: 16640 } } as unknown as GpuContext;
    expect(chooseConvTile(enough)).toEqual({ channels: 128, pixels: 128, depth: 16 });
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: both weight-gradient variants agree, the tiled one with every tile', async (_, c) => {
    const g = geometryOf(c);
    for (const variant of ['blocked', 'tiled'] as WeightGradVariant[]) {
      const dw = runConv2dWeightGrad(fromFixture(c.x), fromFixture(c.dy), g, variant);
      expectClose(await dw.read(), c.dweight.data, ...TOL, `dweight (${variant})`);
    }
    for (const tile of [{ channels: 128, taps: 64 }, { channels: 64, taps: 128 }, { channels: 128, taps: 128 }] as const) {
      const dw = runConv2dWeightGrad(fromFixture(c.x), fromFixture(c.dy), g, 'tiled', tile);
      expectClose(await dw.read(), c.dweight.data, ...TOL, `dweight (tiled ${tile.channels}x${tile.taps})`);
    }
  });
});

describe("the CPU kernels' shared reads (kernels/subgroup-share.ts)", () => {
  it('use the adapter\'s one subgroup size where the device has subgroups', () => {
    const sizes = ctx.adapter.subgroupSizes;
    const fixed = ctx.adapter.features.includes('subgroups') && sizes !== undefined && sizes.min === sizes.max;
    expect(ctx.subgroupSize).toBe(fixed ? sizes!.min : null);
    if (ctx.kernelTarget === 'cpu') expect(sharingLanes(ctx)).toBe(ctx.subgroupSize);
  });

  // Broadcast or read by each lane, the values and the arithmetic are the same: so are the bits.
  // Among the fixture cases are layers with fewer values per step than lanes in a subgroup.
  let apart: GpuContext;
  let shared: GpuContext;
  beforeAll(async () => {
    apart = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'cpu', subgroups: false });
    shared = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'cpu' });
  });
  afterAll(() => {
    apart.destroy();
    shared.destroy();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: the same bits with and without subgroup broadcasts', async (_, c) => {
    expect(sharingLanes(apart)).toBeNull();
    const g = geometryOf(c);
    const run = async (on: GpuContext) => {
      const t = (f: ArrayFixture) => fromFixture(f, { ctx: on });
      const y = runConv2dForward(t(c.x), t(c.weight), c.bias ? t(c.bias) : undefined, g, { variant: 'blocked' });
      const dx = runConv2dInputGrad(t(c.dy), t(c.weight), g, { variant: 'blocked' });
      const dw = runConv2dWeightGrad(t(c.x), t(c.dy), g, 'blocked');
      return { y: await y.read(), dx: await dx.read(), dw: await dw.read() };
    };
    const [each, broadcast] = [await run(apart), await run(shared)];
    expect(broadcast.y).toEqual(each.y);
    expect(broadcast.dx).toEqual(each.dx);
    expect(broadcast.dw).toEqual(each.dw);
    expectClose(broadcast.y, c.y.data, ...TOL, 'y (shared reads)');
    expectClose(broadcast.dw, c.dweight.data, ...TOL, 'dweight (shared reads)');
  });
});

describe('conv2d gradients at sizes where the GPU kernels split their work', () => {
  // A context that picks the GPU variants whatever the adapter: the tiled weight gradient with
  // partial tiles and split pixels, and the bias gradient cut into pieces of a plane (66x66 >
  // one piece of 4096), checked against float64 sums written here.
  const geometries: [string, Conv2dGeometry][] = [
    ['3x3 pad 1', { batch: 2, inChannels: 18, inH: 66, inW: 66, outChannels: 20, outH: 66, outW: 66, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1 }],
    ['3x3 stride 2, dilation 2, 2 groups', { batch: 3, inChannels: 36, inH: 30, inW: 25, outChannels: 40, outH: 13, outW: 11, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 2, dilationW: 2, groups: 2 }],
  ];
  it.each(geometries)('%s', async (_, g) => {
    const gpu = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
    try {
      const xs = randomArray(g.batch * g.inChannels * g.inH * g.inW, 31);
      const dys = randomArray(g.batch * g.outChannels * g.outH * g.outW, 32);
      const x = tensor(xs, [g.batch, g.inChannels, g.inH, g.inW], { ctx: gpu });
      const dy = tensor(dys, [g.batch, g.outChannels, g.outH, g.outW], { ctx: gpu });
      expect(chooseWeightGradVariant(gpu, g)).toBe('tiled');
      const dw = await runConv2dWeightGrad(x, dy, g).read();
      const db = await runConv2dBiasGrad(dy).read();
      const inPer = g.inChannels / g.groups;
      const outPer = g.outChannels / g.groups;
      const wantW = new Float64Array(g.outChannels * inPer * 9);
      const wantB = new Float64Array(g.outChannels);
      for (let n = 0; n < g.batch; n++)
        for (let co = 0; co < g.outChannels; co++)
          for (let oh = 0; oh < g.outH; oh++)
            for (let ow = 0; ow < g.outW; ow++) {
              const d = dys[((n * g.outChannels + co) * g.outH + oh) * g.outW + ow]!;
              wantB[co]! += d;
              const group = Math.floor(co / outPer);
              for (let ci = 0; ci < inPer; ci++)
                for (let kh = 0; kh < 3; kh++)
                  for (let kw = 0; kw < 3; kw++) {
                    const ih = oh * g.strideH - g.padH + kh * g.dilationH;
                    const iw = ow * g.strideW - g.padW + kw * g.dilationW;
                    if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                    wantW[((co * inPer + ci) * 3 + kh) * 3 + kw]! += d * xs[((n * g.inChannels + group * inPer + ci) * g.inH + ih) * g.inW + iw]!;
                  }
            }
      // Sums of up to 2·66·66 = 8712 products of values in [-1, 1): float32 rounding of such a sum
      // stays far below 1e-3, while one missing pixel or tap changes it by ~0.1-1.
      expectClose(dw, wantW, 1e-3, 1e-4, 'dweight (tiled)');
      expectClose(db, wantB, 1e-3, 1e-4, 'dbias (pieces)');
      expect(perKernel(gpu, 'conv2d.weight_grad.tiled')).toBe(1);
    } finally {
      gpu.destroy();
    }
  });
});

/** conv2d in float64 on plain arrays, written independently of the kernels (for finite differences). */
function convReference(x: Float64Array, xShape: readonly number[], w: Float64Array, wShape: readonly number[], b: Float64Array | null, stride: number, pad: number): Float64Array {
  const [n, c, h, wd] = xShape as [number, number, number, number];
  const [o, , kh, kw] = wShape as [number, number, number, number];
  const oh = convOutputSize(h, kh, stride, pad, 1);
  const ow = convOutputSize(wd, kw, stride, pad, 1);
  const y = new Float64Array(n * o * oh * ow);
  for (let b0 = 0; b0 < n; b0++)
    for (let co = 0; co < o; co++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = b ? b[co]! : 0;
          for (let ci = 0; ci < c; ci++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const r = i * stride - pad + u;
                const q = j * stride - pad + v;
                if (r >= 0 && r < h && q >= 0 && q < wd) s += x[((b0 * c + ci) * h + r) * wd + q]! * w[((co * c + ci) * kh + u) * kw + v]!;
              }
          y[((b0 * o + co) * oh + i) * ow + j] = s;
        }
  return y;
}

describe('conv2d', () => {
  it('has gradients that agree with central finite differences (float64 reference, tiny case)', async () => {
    // The GPU's float32 gradients against finite differences of a float64 reference (step 1e-6,
    // error ~1e-10): float32 rounding of sums of ~18 terms is the only difference, ~1e-6.
    const shapes = [[1, 2, 5, 5], [3, 2, 3, 3], [3]];
    await checkOp({
      shapes,
      gpu: ([x, w, b]) => conv2d(x!, w!, b!, { stride: 2, padding: 1 }),
      reference: ([x, w, b]) => convReference(x!, shapes[0]!, w!, shapes[1]!, b!, 2, 1),
      forward: [1e-5, 1e-5],
      gradient: [2e-5, 1e-4],
    });
  });

  it('runs only the gradient kernels that are needed, and saves only what they read', async () => {
    const x = tensor(randomArray(2 * 3 * 6 * 6, 1), [2, 3, 6, 6], { name: 'x' });
    const weight = tensor(randomArray(4 * 3 * 3 * 3, 2), [4, 3, 3, 3], { name: 'w' });
    const bias = tensor(randomArray(4, 3), [4], { name: 'b' });
    const dy = tensor(randomArray(2 * 4 * 6 * 6, 4), [2, 4, 6, 6]);
    const run = (needX: boolean, needW: boolean, needB: boolean) => {
      x.requiresGrad = needX;
      weight.requiresGrad = needW;
      bias.requiresGrad = needB;
      const y = conv2d(x, weight, bias, { padding: 1 });
      const saved = y.gradFn?.saved.map((t) => t.name) ?? [];
      ctx.recorder.resetStats();
      if (y.requiresGrad) backward(y, dy);
      const counts = {
        input: perKernel(ctx, 'conv2d.input_grad'),
        weight: weightGradKernels(ctx),
        bias: perKernel(ctx, 'conv2d.bias_grad'),
      };
      for (const t of [x, weight, bias]) {
        t.grad?.dispose();
        t.grad = null;
      }
      y.dispose();
      return { saved, counts };
    };
    // Everything trainable.
    expect(run(true, true, true)).toEqual({ saved: ['x', 'w'], counts: { input: 1, weight: 1, bias: 1 } });
    // A frozen layer inside a trainable network: only dx, and x is not kept.
    expect(run(true, false, false)).toEqual({ saved: ['w'], counts: { input: 1, weight: 0, bias: 0 } });
    // The first layer (the image needs no gradient): no dx, and the weight is not kept.
    expect(run(false, true, true)).toEqual({ saved: ['x'], counts: { input: 0, weight: 1, bias: 1 } });
    // Only the bias trains: nothing saved at all.
    expect(run(false, false, true)).toEqual({ saved: [], counts: { input: 0, weight: 0, bias: 1 } });
    // A frozen base: no graph.
    expect(run(false, false, false)).toEqual({ saved: [], counts: { input: 0, weight: 0, bias: 0 } });
    // Unfreezing between forward and backward: nothing was saved for it, and the error says so.
    bias.requiresGrad = true;
    const y = conv2d(x, weight, bias, { padding: 1 });
    weight.requiresGrad = true;
    expect(() => backward(y, dy)).toThrow(/requiresGrad was turned on after the forward pass/);
  });

  it('splits a batch larger than one binding into runs of images, with the same results', async () => {
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 4096 });
    try {
      const xShape = [5, 3, 9, 9]; // 972 bytes per image, 4860 in all
      const wShape = [4, 3, 3, 3];
      const xs = randomArray(5 * 3 * 9 * 9, 11);
      const ws = randomArray(4 * 3 * 3 * 3, 12);
      const bs = randomArray(4, 13);
      const dys = randomArray(5 * 4 * 9 * 9, 14);
      const x = tensor(xs, xShape, { ctx: small, requiresGrad: true });
      const weight = tensor(ws, wShape, { ctx: small, requiresGrad: true });
      const bias = tensor(bs, [4], { ctx: small, requiresGrad: true });
      small.recorder.resetStats();
      const y = conv2d(x, weight, bias, { padding: 1 });
      backward(y, tensor(dys, [5, 4, 9, 9], { ctx: small }));
      // Reference: the same layer on the shared context, where everything fits one binding.
      const xr = tensor(xs, xShape, { requiresGrad: true });
      const wr = tensor(ws, wShape, { requiresGrad: true });
      const br = tensor(bs, [4], { requiresGrad: true });
      const yr = conv2d(xr, wr, br, { padding: 1 });
      backward(yr, tensor(dys, [5, 4, 9, 9]));
      expectClose(await y.read(), await yr.read(), 1e-6, 1e-6, 'y');
      expectClose(await x.grad!.read(), await xr.grad!.read(), 1e-6, 1e-6, 'dx');
      expectClose(await weight.grad!.read(), await wr.grad!.read(), 1e-5, 1e-5, 'dweight');
      expectClose(await bias.grad!.read(), await br.grad!.read(), 1e-5, 1e-5, 'dbias');
      for (const kernel of ['conv2d.forward', 'conv2d.input_grad', 'conv2d.bias_grad']) {
        expect(perKernel(small, kernel), kernel).toBeGreaterThan(1);
      }
      expect(weightGradKernels(small), 'conv2d.weight_grad').toBeGreaterThan(1);
      // One image larger than a binding cannot be split: refused, naming the tensor.
      const huge = tensor(new Float32Array(2 * 8 * 12 * 12), [2, 8, 12, 12], { ctx: small, name: 'features.3.input' });
      const w8 = tensor(new Float32Array(4 * 8 * 9), [4, 8, 3, 3], { ctx: small });
      expect(() => conv2d(huge, w8)).toThrow(BindingLimitError);
      expect(() => conv2d(huge, w8)).toThrow(/features\.3\.input.*one image at a time|one image at a time.*features\.3\.input/);
    } finally {
      small.destroy();
    }
  });

  it('refuses bad operands with errors that name the layer and show the shapes', () => {
    const w = tensor(new Float32Array(8 * 3 * 9), [8, 3, 3, 3], { name: 'features.0.weight' });
    const image = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    expect(() => conv2d(image([1, 4, 8, 8]), w)).toThrow(ShapeError);
    expect(() => conv2d(image([1, 4, 8, 8]), w)).toThrow(/features\.0\.weight.*\[1, 4, 8, 8\] has 4 channels.*expects 3/);
    expect(() => conv2d(image([1, 3, 2, 2]), w)).toThrow(/features\.0\.weight.*3x3 kernel.*larger than the padded input 2x2.*\[1, 3, 2, 2\]/);
    expect(() => conv2d(image([3, 8, 8]), w)).toThrow(/features\.0\.weight.*4-D input.*\[3, 8, 8\]/);
    expect(() => conv2d(image([1, 6, 8, 8]), w, undefined, { groups: 4 })).toThrow(/8 output channels do not split into|expects 3 × groups 4 = 12/);
    expect(() => conv2d(image([1, 3, 8, 8]), w, tensor([1, 2], [2]))).toThrow(/bias.*\[2\].*8 output channels/);
    expect(() => noGrad(() => conv2d(image([1, 3, 8, 8]), w, undefined, { stride: 0 }))).toThrow(/stride/);
    const optionsAsBias = { padding: 1 } as unknown as Tensor;
    expect(() => conv2d(image([1, 3, 8, 8]), w, optionsAsBias)).toThrow(/third argument is the bias.*conv2d\(x, weight, undefined, options\)/);
  });
});

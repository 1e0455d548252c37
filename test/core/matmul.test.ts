import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { matmulRef, randomArray, type Shape } from '../helpers/reference.js';
import { GpuContext, createNodeGpu, tensor, type Tensor } from '../../src/node.js';
import { planGemm, runGemm, type GemmOptions, type MatmulVariant } from '../../src/kernels/matmul.js';

// Every kernel variant against a float64 reference, on the shapes that take its different paths:
// vec4 loads of B (rows 4-aligned) or element loads (odd sizes), columns and rows past a block's
// edge, K ranges of split-K, and split-K together with the binding splits of large weights.

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

const VARIANTS: MatmulVariant[] = ['simple', 'blocked', 'tiled', 'skinny'];

interface Case {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** Batch entries; `shareB` makes B one 2-D matrix used by every entry. */
  batch?: number;
  shareB?: boolean;
}

/** Float32 inputs (so the reference sees exactly what the GPU sees) and op(A)·op(B) in float64. */
function operands({ M, N, K, transA = false, transB = false, batch = 1, shareB = false }: Case, seed = 1) {
  const as: Shape = transA ? [K, M] : [M, K];
  const bs: Shape = transB ? [N, K] : [K, N];
  const aShape = batch > 1 ? [batch, ...as] : as;
  const bShape = batch > 1 && !shareB ? [batch, ...bs] : bs;
  const av = Float64Array.from(Float32Array.from(randomArray(aShape.reduce((p, d) => p * d, 1), seed)));
  const bv = Float64Array.from(Float32Array.from(randomArray(bShape.reduce((p, d) => p * d, 1), seed + 1)));
  const expected = matmulRef(av, aShape, bv, batch > 1 && shareB ? [1, ...bs] : bShape, transA, transB);
  return { av, bv, aShape, bShape, expected };
}

async function check(c: Case, options: GemmOptions, on: GpuContext = ctx): Promise<Tensor> {
  const { av, bv, aShape, bShape, expected } = operands(c);
  const out = runGemm(tensor(av, aShape, { ctx: on }), tensor(bv, bShape, { ctx: on }), { transA: c.transA, transB: c.transB, ...options });
  // K float32 products summed: the error grows with K.
  expectClose(await out.read(), expected, 1e-5 * c.K, 1e-5, JSON.stringify({ ...c, ...options }));
  return out;
}

const label = (c: Case) =>
  `[${c.batch && c.batch > 1 ? `${c.batch}x` : ''}${c.M}x${c.K}]${c.transA ? 'ᵀ' : ''} · [${c.K}x${c.N}]${c.transB ? 'ᵀ' : ''}${c.shareB ? ' (shared B)' : ''}`;

describe('matmul kernels against float64', () => {
  const cases: Case[] = [
    { M: 1, N: 1, K: 1 },
    { M: 33, N: 35, K: 17 }, // odd everywhere: element loads, partial blocks in M and N
    { M: 20, N: 36, K: 24 }, // N = 4 mod 8: the second vec4 of a lane's columns is past N
    { M: 16, N: 64, K: 64 }, // exact blocks, vec4 loads
    { M: 37, N: 29, K: 45, transA: true, transB: true },
    { M: 12, N: 40, K: 30, transA: true }, // transposed A, vec4 B
    { M: 4, N: 100, K: 64, transB: true }, // a linear layer: B stored [N, K], vec4 along K
    { M: 7, N: 24, K: 42, transB: true }, // K = 2 mod 4: vec4 along K plus a tail of 2
    { M: 20, N: 12, K: 9, transB: true }, // K not 4-aligned: element loads of a transposed B
    { M: 5, N: 30, K: 13, transA: true, batch: 2 },
    { M: 8, N: 24, K: 40, transB: true, batch: 3 },
    { M: 6, N: 20, K: 8, batch: 2, shareB: true },
  ];
  for (const variant of VARIANTS) {
    for (const c of cases) {
      it(`${variant}: ${label(c)}`, () => check(c, { variant }));
    }
  }

  it('blocked: rows per workgroup follow M (4, 8, 16), each right', async () => {
    for (const M of [3, 8, 19]) await check({ M, N: 72, K: 20 }, { variant: 'blocked' });
  });

  // The skinny kernel lays a transposed B out for the context's kernel target: 32 lanes per
  // column on a GPU, 8 lanes of 8 columns on a CPU adapter; the test context has one of them.
  it.each(['cpu', 'gpu'] as const)('skinny, %s layout: rows per workgroup follow M (1, 2, 4, 8), for either B, each right', async (kernelTarget) => {
    const on = await GpuContext.create(await createNodeGpu(), { kernelTarget });
    try {
      for (const M of [1, 2, 3, 5, 8]) {
        await check({ M, N: 300, K: 260, transB: true }, { variant: 'skinny' }, on); // vec4 along K, 38 workgroups of 8 columns
        await check({ M, N: 300, K: 260, transB: true, batch: 2 }, { variant: 'skinny' }, on); // A's rows as vec4, batched
        await check({ M, N: 300, K: 70 }, { variant: 'skinny' }, on); // vec4 along N, the last quad of columns partial
        await check({ M, N: 13, K: 37, transB: true, transA: true }, { variant: 'skinny' }, on); // element loads
        await check({ M, N: 13, K: 36, transB: true, transA: true }, { variant: 'skinny' }, on); // vec4 B, element loads of a transposed A
      }
      const layout = kernelTarget === 'cpu' ? 'skinny4x8' : 'skinny4';
      expect(on.recorder.stats.perKernel.get(`matmul.${layout}.NT.vec4AB`)).toBeGreaterThan(0);
    } finally {
      on.destroy();
    }
  });

  it('bias and accumulation, with and without split-K', async () => {
    for (const variant of VARIANTS) {
      for (const splitK of [1, 3]) {
        const c: Case = { M: 6, N: 20, K: 40, transB: true };
        const { av, bv, aShape, bShape, expected } = operands(c, 5);
        const biasValues = Float64Array.from(Float32Array.from(randomArray(c.N, 9)));
        const startValues = Float64Array.from(Float32Array.from(randomArray(c.M * c.N, 10)));
        const acc = tensor(startValues, [c.M, c.N]);
        const a = tensor(av, aShape);
        const b = tensor(bv, bShape);
        runGemm(a, b, { transB: true, bias: tensor(biasValues, [c.N]), accumulateInto: acc, variant, splitK });
        const want = expected.map((v, i) => v + biasValues[i % c.N]! + startValues[i]!);
        expectClose(await acc.read(), want, 1e-5 * c.K, 1e-5, `${variant}, splitK ${splitK}`);
      }
    }
  });
});

describe('split-K', () => {
  // K ranges are multiples of 4; the last one may be short or (K < 4·splits) empty.
  const cases: Case[] = [
    { M: 4, N: 40, K: 1000, transB: true }, // a tall-skinny linear layer
    { M: 3, N: 17, K: 101 },
    { M: 13, N: 9, K: 61, transA: true, transB: true },
    { M: 2, N: 8, K: 10, transB: true }, // more ranges than groups of 4 terms
  ];
  for (const variant of VARIANTS) {
    for (const c of cases) {
      it(`${variant}: ${label(c)} in 1, 2, 5 and 16 ranges`, async () => {
        for (const splitK of [1, 2, 5, 16]) await check(c, { variant, splitK });
      });
    }
  }

  it("the plan's own split: dy·W with long rows of a plain B on a CPU adapter, K in ranges of 128 rows", async () => {
    const cpu = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'cpu' });
    try {
      await check({ M: 3, N: 4100, K: 300 }, {}, cpu); // 2 ranges (152 and 148 rows); N not 4-aligned
      await check({ M: 4, N: 4096, K: 512 }, {}, cpu); // 4 ranges, vec4 throughout
      expect(cpu.recorder.stats.perKernel.get('matmul.sum_partials')).toBe(2);
    } finally {
      cpu.destroy();
    }
  });

  it('batched products are never split (one range per batch entry)', async () => {
    await check({ M: 4, N: 12, K: 64, batch: 2 }, { variant: 'blocked', splitK: 4 });
  });
});

describe('vec4 loads and their fallback', () => {
  async function kernelsRun(c: Case): Promise<string[]> {
    ctx.recorder.resetStats();
    await check(c, { variant: 'blocked' });
    return [...ctx.recorder.stats.perKernel.keys()];
  }

  it('reads B and writes C as vec4 only where rows (and N, along N) are 4-aligned', async () => {
    expect(await kernelsRun({ M: 8, N: 32, K: 12 })).toEqual(['matmul.blocked8.NN.vec4BC']);
    expect(await kernelsRun({ M: 8, N: 30, K: 12 })).toEqual(['matmul.blocked8.NN']);
    expect(await kernelsRun({ M: 8, N: 30, K: 12, transB: true })).toEqual(['matmul.blocked8.NT.vec4B']);
    expect(await kernelsRun({ M: 8, N: 32, K: 13, transB: true })).toEqual(['matmul.blocked8.NT.vec4C']);
    expect(await kernelsRun({ M: 8, N: 32, K: 30, transA: true })).toEqual(['matmul.blocked8.TN.vec4BC']);
  });
});

describe('plans', () => {
  const gpu = (isSoftware: boolean) => ({ kernelTarget: isSoftware ? 'cpu' : 'gpu', maxBindingBytes: 2 ** 30 }) as unknown as GpuContext;

  it('CPU adapters: the blocked kernel, skinny for a linear layer at batch 1-8; tiny products: simple', () => {
    expect(planGemm(gpu(true), 512, 512, 512, 1)).toEqual({ variant: 'blocked', rows: 16, splitK: 1 });
    // dy·W at batch 4, B plain with rows of 16 KB or more: K in ranges of 128 rows. fc6, fc7:
    expect(planGemm(gpu(true), 4, 25088, 4096, 1)).toEqual({ variant: 'blocked', rows: 4, splitK: 32 });
    expect(planGemm(gpu(true), 4, 4096, 4096, 1)).toEqual({ variant: 'blocked', rows: 4, splitK: 32 });
    expect(planGemm(gpu(true), 4, 4096, 25088, 1)).toEqual({ variant: 'blocked', rows: 4, splitK: 196 });
    // Not at batch 8 or 32, not for rows of 8 KB, not for a batched product, not for a transposed B.
    expect(planGemm(gpu(true), 8, 25088, 4096, 1).splitK).toBe(1);
    expect(planGemm(gpu(true), 32, 25088, 4096, 1).splitK).toBe(1);
    expect(planGemm(gpu(true), 4, 2048, 4096, 1).splitK).toBe(1);
    expect(planGemm(gpu(true), 4, 4096, 4096, 2).splitK).toBe(1);
    expect(planGemm(gpu(true), 4, 4096, 100, 1, true).splitK).toBe(1);
    // x·Wᵀ, fc6 at batch 4: the skinny kernel; at batch 9, a K not 4-aligned, or a short K: blocked.
    expect(planGemm(gpu(true), 4, 4096, 25088, 1, true)).toEqual({ variant: 'skinny', rows: 4, splitK: 1 });
    expect(planGemm(gpu(true), 9, 4096, 25088, 1, true).variant).toBe('blocked');
    expect(planGemm(gpu(true), 4, 4096, 1026, 1, true).variant).toBe('blocked');
    expect(planGemm(gpu(true), 4, 4096, 128, 1, true).variant).toBe('blocked');
    expect(planGemm(gpu(true), 4, 8, 16, 1).variant).toBe('simple');
  });

  it('GPUs: tiled for large products, split-K for tall-skinny ones', () => {
    expect(planGemm(gpu(false), 1024, 1024, 1024, 1)).toEqual({ variant: 'tiled', rows: 16, splitK: 1 });
    const fc6 = planGemm(gpu(false), 32, 4096, 25088, 1, true);
    expect(fc6.variant).toBe('tiled');
    expect(fc6.splitK).toBeGreaterThanOrEqual(8);
    expect(planGemm(gpu(false), 9, 4096, 25088, 1, true).variant).toBe('tiled');
  });

  it('GPUs: the skinny kernel for at most 8 rows, split-K to about 2^18 invocations', () => {
    // fc6 at batch 4, x·Wᵀ: 512 workgroups of 256 invocations, so 2 ranges of K.
    expect(planGemm(gpu(false), 4, 4096, 25088, 1, true)).toEqual({ variant: 'skinny', rows: 4, splitK: 2 });
    // Its input gradient dy·W (B plain, [4096, 25088]): 6272 invocations of 4 columns, 42 ranges.
    expect(planGemm(gpu(false), 4, 25088, 4096, 1, false)).toEqual({ variant: 'skinny', rows: 4, splitK: 42 });
    expect(planGemm(gpu(false), 1, 4096, 4096, 1, true).rows).toBe(1);
    expect(planGemm(gpu(false), 8, 4096, 25088, 8, true).splitK).toBe(1); // batched: one range per entry
    expect(planGemm(gpu(false), 4, 4096, 300, 1, true).splitK).toBe(2); // at least 128 terms per range
    expect(planGemm(gpu(false), 4, 4096, 100, 1, true).splitK).toBe(1);
  });
});

describe('split-K with binding splits', () => {
  // 4 KiB bindings (1024 floats): the same code paths as VGG16's 411 MB weight on lavapipe.
  let small: GpuContext;
  beforeAll(async () => {
    small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 4096 });
  });

  it('a transposed B split along N, each slice in K ranges, with bias', async () => {
    // B is [48, 40] = 1920 floats: two slices of N.
    const c: Case = { M: 3, N: 48, K: 40, transB: true };
    const { av, bv, aShape, bShape, expected } = operands(c, 3);
    const biasValues = Float64Array.from(Float32Array.from(randomArray(c.N, 4)));
    for (const variant of VARIANTS) {
      const out = runGemm(tensor(av, aShape, { ctx: small }), tensor(bv, bShape, { ctx: small }), {
        transB: true,
        bias: tensor(biasValues, [c.N], { ctx: small }),
        variant,
        splitK: 3,
      });
      expectClose(await out.read(), expected.map((v, i) => v + biasValues[i % c.N]!), 1e-5 * c.K, 1e-5, variant);
    }
  });

  it('a plain B split along K (the slices accumulate), each slice in K ranges', async () => {
    for (const variant of VARIANTS) await check({ M: 3, N: 20, K: 90 }, { variant, splitK: 4 }, small);
  });
});

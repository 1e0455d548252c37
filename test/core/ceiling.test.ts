// The ceiling probes (kernels/ceiling.ts) are only a yardstick if they do the work they are
// credited with: every multiply-add of every chain, and every byte of the copy. Checked against
// a float64 reference of the chains and against the source of the copy; then the figures
// measureCeilings reports, and the tables that print rates as shares of them.
import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { Tensor, type GpuContext } from '../../src/node.js';
import { FMA_PROBE, measureCeilings, recordCopyProbe, recordFmaProbe, recordReadProbe, shareOfCeiling } from '../../src/kernels/ceiling.js';
import { kernelTable, type StepProfile } from '../../src/train/profile.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

/** What invocation i stores after `steps` multiply-adds per chain, computed in float64. */
function expectedSum(i: number, chains: number, steps: number): number[] {
  const { m, b } = FMA_PROBE;
  const start = (i % 1024) * 1e-4;
  return [0, 1, 2, 3].map((component) => {
    let sum = 0;
    for (let c = 0; c < chains; c++) {
      let a = start + c + component / 4;
      for (let s = 0; s < steps; s++) a = a * m + b;
      sum += a;
    }
    return sum;
  });
}

describe('the ceiling probes', () => {
  it('runs every multiply-add of every chain (float64 reference; one step fewer would be off by 1e-3)', async () => {
    const invocations = 128;
    for (const [chains, iterations] of [[4, 16], [8, 3], [16, 64]] as const) {
      const out = Tensor.empty(ctx, [invocations, 4], 'float32', 'probe.out');
      recordFmaProbe(out, chains, iterations);
      const got = await out.read();
      out.dispose();
      for (const i of [0, 1, 63, 127]) {
        const want = expectedSum(i, chains, iterations * FMA_PROBE.unroll);
        for (let c = 0; c < 4; c++) expect(Math.abs(got[4 * i + c]! - want[c]!), `chains ${chains}, invocation ${i}`).toBeLessThan(1e-4 * chains);
      }
      // The check can fail: one step more moves the sum by about (b − (1 − m)·a) per chain.
      const oneMore = expectedSum(5, chains, iterations * FMA_PROBE.unroll + 1);
      const want = expectedSum(5, chains, iterations * FMA_PROBE.unroll);
      expect(Math.abs(oneMore[3]! - want[3]!)).toBeGreaterThan(1e-3);
    }
  });

  it('copies every value, whatever the number of workgroups striding over the buffer', async () => {
    const n = 4 * 5000;
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
    for (const workgroups of [1, 7, 100]) {
      const src = Tensor.fromData(ctx, values, [n], 'float32', 'probe.src');
      const dst = Tensor.fromData(ctx, new Float32Array(n), [n], 'float32', 'probe.dst');
      recordCopyProbe(src, dst, workgroups);
      expect(Array.from(await dst.read())).toEqual(Array.from(values));
      src.dispose();
      dst.dispose();
    }
  });

  it('reads every value: each invocation sums the vec4s it strides over', async () => {
    const quads = 3000;
    const values = Float32Array.from({ length: 4 * quads }, (_, i) => (i % 17) - 8);
    for (const workgroups of [1, 3]) {
      const invocations = 64 * workgroups;
      const src = Tensor.fromData(ctx, values, [4 * quads], 'float32', 'probe.src');
      const sums = Tensor.empty(ctx, [4 * invocations], 'float32', 'probe.sums');
      recordReadProbe(src, sums, workgroups);
      const want = new Float64Array(4 * invocations);
      for (let q = 0; q < quads; q++) for (let c = 0; c < 4; c++) want[4 * (q % invocations) + c]! += values[4 * q + c]!;
      expect(Array.from(await sums.read())).toEqual(Array.from(want));
      src.dispose();
      sums.dispose();
    }
  });

  it('measures the ceilings, and the tables give rates as shares of them', async () => {
    const c = await measureCeilings(ctx, { samples: 1, targetMs: 20 });
    expect(c.fma.map((r) => r.chains)).toEqual([4, 8, 16]);
    for (const r of c.fma) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.gflops).toBeCloseTo((2 * 4 * FMA_PROBE.unroll * r.chains * r.invocations * r.iterations) / (r.ms * 1e6), 6);
    }
    expect(c.fmaGflops).toBe(Math.max(...c.fma.map((r) => r.gflops)));
    expect(c.copyGbps).toBeCloseTo((2 * c.copy.bytes * c.copy.repeats) / (c.copy.ms * 1e6), 6);
    expect(c.readGbps).toBeCloseTo((c.read.bytes * c.read.repeats) / (c.read.ms * 1e6), 6);
    expect(c.copy.bytes).toBeLessThanOrEqual(ctx.maxBindingBytes);
    expect(c.copy.workgroups).toBeGreaterThan(0);
    expect(c.read.workgroups).toBeGreaterThan(0);

    const ceilings = { ...c, fmaGflops: 120, copyGbps: 2, readGbps: 3 };
    expect(shareOfCeiling(ceilings, 30, 'GFLOP/s')).toBe('25%');
    expect(shareOfCeiling(ceilings, 0.3, 'GB/s')).toBe('10%'); // of the faster memory probe
    expect(shareOfCeiling(ceilings, 0.6, 'GFLOP/s')).toBe('0.5%');
    expect(shareOfCeiling(ceilings, 100, 'img/s')).toBeNull();
    expect(shareOfCeiling(null, 30, 'GFLOP/s')).toBeNull();

    const profile = {
      kernels: [
        { phase: 'forward', name: 'conv2d.forward.blocked', role: 'convolution', count: 1, msPerStep: 1, meanUs: 1000, share: 1, flopsPerStep: 3e7, gflops: 30 },
      ],
      gpuMsPerStep: 1,
    } as unknown as StepProfile;
    const [header, , row] = kernelTable(profile, { ceilingGflops: 120 }).split('\n');
    expect(header).toMatch(/GFLOP\/s \(of ceiling\)$/);
    expect(row).toMatch(/30\.0 \(25%\)$/);
    expect(kernelTable(profile).split('\n')[0]).toMatch(/share +GFLOP\/s$/);
  });
});

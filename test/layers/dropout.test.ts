import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { GpuContext, backward, createNodeGpu, randn, tensor, ones } from '../../src/node.js';
import { dropout } from '../../src/ops/dropout.js';
import { DROPOUT_BLOCK, dropThreshold } from '../../src/kernels/dropout.js';
import { threefry2x32 } from '../../src/data/random.js';

/** The mask as the CPU computes it with the data pipeline's generator. */
function cpuKeep(seed: number, step: number, index: number, p: number): boolean {
  return threefry2x32(seed, step, index, DROPOUT_BLOCK)[0] >>> 8 >= dropThreshold(p);
}

describe('dropout', () => {
  it('keeps exactly the elements the CPU generator says, scaled by 1/(1-p)', async () => {
    await testContext();
    const n = 5000;
    const p = 0.3;
    const values = Array.from({ length: n }, (_, i) => 1 + (i % 17));
    const y = await dropout(tensor(values, [50, 100]), p, { training: true, seed: 1234, step: 7 }).read();
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const keep = cpuKeep(1234, 7, i, p);
      kept += keep ? 1 : 0;
      expect(y[i], `element ${i}`).toBe(keep ? Math.fround(values[i]! * Math.fround(1 / (1 - p))) : 0);
    }
    // Binomial(5000, 0.7): mean 3500, sd 32; 5 sd either way.
    expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
  });

  it('is reproducible for a (seed, step) and different for another step or seed', async () => {
    await testContext();
    const x = ones([4096]);
    const read = async (seed: number, step: number) => Array.from(await dropout(x, 0.5, { training: true, seed, step }).read());
    const a = await read(1, 0);
    expect(await read(1, 0)).toEqual(a);
    expect(await read(1, 1)).not.toEqual(a);
    expect(await read(2, 0)).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set([0, 2]));
  });

  it('is the identity in eval mode and for p = 0: x itself, no dispatch', async () => {
    const ctx = await testContext();
    const x = randn([8, 8], 1, { requiresGrad: true });
    ctx.recorder.resetStats();
    expect(dropout(x, 0.5, { training: false, seed: 1 })).toBe(x);
    expect(dropout(x, 0, { training: true, seed: 1 })).toBe(x);
    expect(ctx.recorder.stats.dispatches).toBe(0);
  });

  it('drops everything for p = 1 and refuses p outside [0, 1]', async () => {
    await testContext();
    const y = await dropout(randn([100], 2), 1, { training: true, seed: 3 }).read();
    expect(y.every((v) => v === 0)).toBe(true);
    expect(() => dropout(randn([4], 2), 1.5, { training: true, seed: 3 })).toThrow(RangeError);
    expect(() => dropout(randn([4], 2), 0.5, { training: true, seed: -1 })).toThrow(RangeError);
  });

  it('routes the gradient through the same mask, recomputed rather than saved', async () => {
    await testContext();
    const x = randn([3, 333], 4, { requiresGrad: true });
    const y = dropout(x, 0.4, { training: true, seed: 99, step: 5 });
    expect(y.gradFn!.saved.length).toBe(0);
    const g = randn([3, 333], 5);
    backward(y, g);
    const [gx, gv, yv, xv] = await Promise.all([x.grad!.read(), g.read(), y.read(), x.read()]);
    const scale = Math.fround(1 / 0.6);
    for (let i = 0; i < gx.length; i++) {
      const kept = yv[i] !== 0;
      expect(kept).toBe(cpuKeep(99, 5, i, 0.4));
      expect(gx[i]).toBe(kept ? Math.fround(gv[i]! * scale) : 0);
      if (kept) expect(yv[i]).toBe(Math.fround(xv[i]! * scale));
    }
  });

  it('draws the same mask when the tensor is split across bindings', async () => {
    const big = await testContext();
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 4096 });
    const values = Array.from({ length: 3000 }, (_, i) => i);
    const run = async (ctx: GpuContext) => {
      ctx.recorder.resetStats();
      const y = await dropout(tensor(values, [3000], { ctx }), 0.5, { training: true, seed: 5, step: 2 }).read();
      return { y: Array.from(y), dispatches: ctx.recorder.stats.perKernel.get('dropout') };
    };
    const whole = await run(big);
    const sliced = await run(small);
    expect(whole.dispatches).toBe(1);
    expect(sliced.dispatches).toBe(3); // 12000 bytes in 4 KiB slices
    expect(sliced.y).toEqual(whole.y);
    small.destroy();
  });
});

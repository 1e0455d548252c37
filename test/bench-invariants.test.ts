// The step invariants the benchmark reports, asserted on a small VGG: once warm, a training step
// (forward, loss, backward, SGD update) is one queue.submit, creates no buffer and reads nothing
// back, with the base trainable and with it frozen; and it binds exactly what the previous step
// bound, so every bind group comes from the cache (runtime/bind-group-cache.ts).
import { describe, expect, it } from 'vitest';
import { testContext } from './helpers/gpu.js';
import { GpuContext } from '../src/runtime/context.js';
import { createNodeGpu } from '../src/runtime/node-gpu.js';
import { Tensor } from '../src/autograd/tensor.js';
import { randn } from '../src/ops/creation.js';
import { smallVgg } from '../src/models/vgg.js';
import { freeze } from '../src/models/freeze.js';
import { SGD } from '../src/optim/sgd.js';
import { trainStep, type TrainStepParts } from '../src/train/profile.js';

async function stepCosts(parts: TrainStepParts, steps: number) {
  const { ctx } = parts;
  for (let i = 0; i < 2; i++) trainStep(parts); // warm-up: pipelines, pool, momentum buffers
  await ctx.recorder.sync();
  const stats = ctx.recorder.stats;
  const before = {
    submits: stats.submits, readbacks: stats.readbacks, created: ctx.pool.stats.created, live: ctx.pool.stats.live,
    bindGroups: ctx.recorder.bindGroups.misses, reused: ctx.recorder.bindGroups.hits,
  };
  const submits: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s = stats.submits;
    trainStep(parts);
    submits.push(stats.submits - s);
  }
  const result = {
    submitsPerStep: submits,
    readbacks: stats.readbacks - before.readbacks,
    created: ctx.pool.stats.created - before.created,
    liveDelta: ctx.pool.stats.live - before.live,
    bindGroupsCreated: ctx.recorder.bindGroups.misses - before.bindGroups,
    bindGroupsReused: ctx.recorder.bindGroups.hits - before.reused,
  };
  await ctx.recorder.sync();
  return result;
}

describe('training-step invariants (small VGG, 16x16, batch 4)', () => {
  for (const frozenBase of [false, true]) {
    it(`${frozenBase ? 'frozen base' : 'full fine-tune'}: one submit, no buffer or bind group created, no readback per step`, async () => {
      const ctx = await testContext();
      const model = smallVgg({ widths: [4, 8, 8], hidden: 16, numClasses: 2, seed: 3 }).train();
      if (frozenBase) freeze(model, 'features');
      const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      const images = randn([4, 3, 16, 16], 5);
      const labels = Tensor.fromData(ctx, [0, 1, 1, 0], [4], 'int32', 'labels');
      const costs = await stepCosts({ ctx, model, optimizer, images, labels }, 5);
      expect(costs.submitsPerStep).toEqual([1, 1, 1, 1, 1]);
      expect(costs.readbacks).toBe(0);
      expect(costs.created).toBe(0);
      expect(costs.liveDelta).toBe(0);
      expect(costs.bindGroupsCreated).toBe(0);
      expect(costs.bindGroupsReused).toBeGreaterThan(5 * 10);
      optimizer.dispose();
      model.dispose();
      images.dispose();
      labels.dispose();
    });
  }

  it('a small write into a buffer that pending work uses is ordered without a submit (the seed gradient)', async () => {
    const ctx = await testContext();
    const a = Tensor.fromData(ctx, [1, 2, 3], [3], 'float32');
    const b = Tensor.empty(ctx, [3]);
    ctx.recorder.flush();
    const submits = ctx.recorder.stats.submits;
    ctx.recorder.copy(a.buffer, 0, b.buffer, 0, 12); // b pending: b = [1, 2, 3]
    ctx.recorder.write(b.buffer, 4, new Float32Array([7])); // must land after the copy
    expect(ctx.recorder.stats.submits).toBe(submits);
    expect(Array.from(await b.read())).toEqual([1, 7, 3]);
    a.dispose();
    b.dispose();
  });

  it("the recorder's dry run allocates exactly what a real step does, and runs nothing (bench/memory.ts)", async () => {
    const ctx = await testContext();
    const model = smallVgg({ widths: [4, 8, 8], hidden: 16, numClasses: 2, seed: 3 }).train();
    const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const images = randn([4, 3, 16, 16], 5);
    const labels = Tensor.fromData(ctx, [0, 1, 1, 0], [4], 'int32', 'labels');
    const parts = { ctx, model, optimizer, images, labels };
    const allocations: string[][] = [[], []];
    for (const [run, dryRun] of [[0, false], [1, true]] as const) {
      trainStep(parts); // warm: momentum buffers exist, so both recorded steps make the same requests
      await ctx.recorder.sync();
      const weight = await model.parameters()[0]!.read();
      ctx.pool.observer = (event, size) => allocations[run]!.push(`${event} ${size}`);
      ctx.recorder.dryRun = dryRun;
      trainStep(parts);
      ctx.recorder.dryRun = false;
      ctx.pool.observer = null;
      await ctx.recorder.sync();
      const after = await model.parameters()[0]!.read();
      // A real step moves the weights; a dry one leaves them as they were.
      expect(Array.from(after).some((v, i) => v !== weight[i])).toBe(!dryRun);
    }
    expect(allocations[1]!.length).toBeGreaterThan(50);
    expect(allocations[1]).toEqual(allocations[0]);
    optimizer.dispose();
    model.dispose();
    images.dispose();
    labels.dispose();
  });
});

describe("a step's memory (the bench's small VGG: 32x32, batch 32)", () => {
  it('buffers planned per submission hold at most 1.2x the bytes ever live at once, and less than the bucket pool', async () => {
    // Three steps recorded and dropped (dry runs) on two fresh contexts: the planned pool and
    // the bucket pool alone.
    const replay = async (memoryPlan: boolean) => {
      const ctx = await GpuContext.create(await createNodeGpu(), { memoryPlan });
      const model = smallVgg({ numClasses: 2, seed: 1, ctx }).train();
      const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      const images = randn([32, 3, 32, 32], 5, { ctx });
      const labels = Tensor.fromData(ctx, Array.from({ length: 32 }, (_, i) => i % 2), [32], 'int32', 'labels');
      await ctx.recorder.sync();
      let live = [...ctx.pool.liveBySize()].reduce((sum, [size, n]) => sum + size * n, 0);
      let mostLive = live;
      ctx.pool.observer = (event, size) => (mostLive = Math.max(mostLive, (live += event === 'acquire' ? size : -size)));
      ctx.recorder.dryRun = true;
      for (let i = 0; i < 3; i++) trainStep({ ctx, model, optimizer, images, labels });
      const peak = ctx.pool.stats.peakBytesAllocated;
      ctx.destroy();
      return { peak, mostLive };
    };
    const planned = await replay(true);
    const pooled = await replay(false);
    expect(planned.mostLive).toBe(pooled.mostLive); // the same tensors, whatever holds them
    expect(planned.peak).toBeLessThanOrEqual(1.2 * planned.mostLive);
    expect(planned.peak).toBeLessThan(pooled.peak);
    expect(pooled.peak).toBeGreaterThan(1.2 * pooled.mostLive); // what the plan is for: the bucket pool strands memory here
  });
});

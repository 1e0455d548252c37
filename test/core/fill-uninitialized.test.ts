// No kernel may read memory it did not write. A fresh buffer holds zeros and a reused one holds
// its last tensor's values, either of which can hide such a read; with
// GpuContextOptions.fillUninitialized every new tensor holds NaN instead, so training steps run
// with and without it must give the same bits. The whole Node suite passed with it forced on when
// it was added (ResNet18 included: too slow to compile twice here on every run); this keeps the
// check for the kernels of a training step, in both kernel families.
import { describe, expect, it } from 'vitest';
import { createNodeGpu } from '../../src/runtime/node-gpu.js';
import { GpuContext, type GpuContextOptions } from '../../src/runtime/context.js';
import { Tensor } from '../../src/autograd/tensor.js';
import { tidy } from '../../src/autograd/scope.js';
import { tensor, zeros } from '../../src/ops/creation.js';
import { backward } from '../../src/ops/grad.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { Adam } from '../../src/optim/adam.js';
import { smallVgg } from '../../src/models/vgg.js';
import { freezeAllButHead } from '../../src/models/freeze.js';
import type { Module } from '../../src/nn/module.js';
import { UNINITIALIZED_BITS } from '../../src/kernels/fill.js';

interface Recipe {
  model: (ctx: GpuContext) => Module;
  frozenBase?: boolean;
  adam?: boolean;
}

/** Two training steps of `recipe` on a new context: the losses and every parameter afterwards, as bits. */
async function trainTwice(options: GpuContextOptions, recipe: Recipe): Promise<{ losses: number[]; params: Uint32Array[] }> {
  const ctx = await GpuContext.create(await createNodeGpu(), options);
  try {
    const model = recipe.model(ctx);
    if (recipe.frozenBase) freezeAllButHead(model);
    const optimizer = recipe.adam ? new Adam(model.parameters(), { lr: 1e-3 }) : new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const x = tensor(Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37)), [2, 3, 32, 32], { ctx });
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      model.zeroGrad();
      const loss = tidy(() => {
        const l = crossEntropy(model.forward(x), [0, 1]);
        backward(l);
        return l;
      });
      optimizer.step();
      losses.push(((await loss.read()) as Float32Array)[0]!);
      loss.dispose();
    }
    const params = await Promise.all(model.parameters().map(async (p) => new Uint32Array(((await p.read()) as Float32Array).buffer)));
    return { losses, params };
  } finally {
    ctx.destroy();
  }
}

const smallVggBn = (ctx: GpuContext) => smallVgg({ widths: [8, 16, 32], hidden: 32, numClasses: 2, batchNorm: true, seed: 3, ctx });

describe('fillUninitialized: no kernel reads what it did not write', () => {
  it('fills every new tensor with NaN', async () => {
    const ctx = await GpuContext.create(await createNodeGpu(), { fillUninitialized: true });
    try {
      const t = Tensor.empty(ctx, [5, 7]);
      const bits = new Uint32Array(((await t.read()) as Float32Array).buffer);
      expect([...new Set(bits)]).toEqual([UNINITIALIZED_BITS]);
    } finally {
      ctx.destroy();
    }
  });

  it('leaves out what is written next: zeros and uploads run no fill', async () => {
    const ctx = await GpuContext.create(await createNodeGpu(), { fillUninitialized: true });
    try {
      const before = ctx.recorder.stats.dispatches;
      const z = zeros([5, 7], { ctx });
      const u = Tensor.fromData(ctx, [1, 2, 3], [3], 'float32');
      expect(ctx.recorder.stats.dispatches).toBe(before);
      expect([...((await z.read()) as Float32Array)]).toEqual(new Array(35).fill(0));
      expect([...((await u.read()) as Float32Array)]).toEqual([1, 2, 3]);
    } finally {
      ctx.destroy();
    }
  });

  it.each<[string, Recipe, GpuContextOptions]>([
    ['small VGG with batch norm, full step, CPU kernels', { model: smallVggBn }, { kernelTarget: 'cpu' }],
    ['small VGG with batch norm, frozen base, Adam', { model: smallVggBn, frozenBase: true, adam: true }, { kernelTarget: 'cpu' }],
    ['small VGG with batch norm, full step, GPU (tiled) kernels', { model: smallVggBn }, { kernelTarget: 'gpu' }],
  ])('%s: the same bits with memory filled with NaN', async (_name, recipe, options) => {
    const plain = await trainTwice(options, recipe);
    const filled = await trainTwice({ ...options, fillUninitialized: true }, recipe);
    expect(plain.losses.every(Number.isFinite)).toBe(true);
    expect(filled.losses).toEqual(plain.losses);
    expect(filled.params.length).toBe(plain.params.length);
    filled.params.forEach((p, i) => expect(p, `parameter ${i}`).toEqual(plain.params[i]));
  });
});

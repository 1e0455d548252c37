// The profiler's per-layer view: every timed dispatch names the layer it ran for (its forward,
// its backward through the graph node made in it, its parameters' update), and a step sums up
// layer by layer, with what each layer keeps for backward. Under a frozen base the base's layers
// cost their forward and nothing else, and keep nothing.
import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { Tensor } from '../../src/autograd/tensor.js';
import { randn } from '../../src/ops/creation.js';
import { add } from '../../src/ops/elementwise.js';
import { backward } from '../../src/ops/grad.js';
import { sum } from '../../src/ops/reduce.js';
import { Module } from '../../src/nn/module.js';
import { Conv2d } from '../../src/nn/conv.js';
import { SGD } from '../../src/optim/sgd.js';
import { dispatchLabel } from '../../src/runtime/dispatch-label.js';
import { labelLayers } from '../../src/train/layer-labels.js';
import { chromeTrace, profileTrainStep, type StepProfile, type TimedDispatch } from '../../src/train/profile.js';
import { compareLayerTable, layerCosts, layerTable } from '../../src/train/profile-layers.js';
import { expectedMemory, ourStepParts, stepName, type StepSpec } from '../../bench/train-step.js';
import { profileSmallVgg } from '../helpers/small-vgg-profile.js';
import { headPathOf } from '../../src/models/head.js';

describe('layerCosts', () => {
  const at = (layer: string | undefined, phase: TimedDispatch['phase'], name: string, ms: number, step = 1): TimedDispatch => ({
    step, index: 0, phase, name, startNs: 0, endNs: ms * 1e6, ...(layer === undefined ? {} : { layer }),
  });
  const profile = (dispatches: TimedDispatch[], label = 'p'): StepProfile =>
    ({ label, steps: 2, dispatches, modules: { '': 'Net', conv: 'Conv2d', fc: 'Linear' }, savedBytes: label === 'frozen' ? { fc: 512 } : { conv: 2048, fc: 512 } }) as unknown as StepProfile;

  it('sums each layer by what its dispatches did, per step, in the order the layers first ran', () => {
    const p = profile([
      at('conv', 'forward', 'conv2d.forward.blocked.relu', 4),
      at('fc', 'forward', 'matmul.skinny.NT.bias', 2),
      at('loss', 'forward', 'cross_entropy.forward', 1),
      at('fc', 'backward', 'matmul.blocked16.NN.vec4BC', 3),
      at('fc', 'backward', 'matmul.blocked16.TN.vec4BC', 5),
      at('conv', 'backward', 'binary.relu_backward.in_place', 1),
      at('conv', 'backward', 'conv2d.weight_grad.blocked', 6),
      at('conv', 'optimizer', 'optim.sgd_momentum.vec4', 2),
      at('', 'forward', 'unary.relu', 1),
      at(undefined, 'forward', 'fill', 1),
    ]);
    const rows = layerCosts(p);
    expect(rows.map((r) => [r.layer, r.module])).toEqual([['conv', 'Conv2d + ReLU'], ['fc', 'Linear'], ['loss', 'cross-entropy'], ['(model)', 'Net'], ['(none)', '']]);
    const conv = rows[0]!;
    // Two steps were profiled: per step, half of each sum.
    expect(conv.ms).toEqual({ forward: 2, dataGradient: 0.5, parameterGradients: 3, update: 1 });
    expect(conv.totalMs).toBe(6.5);
    expect(conv.dispatches).toEqual({ forward: 0.5, dataGradient: 0.5, parameterGradients: 0.5, update: 0.5 });
    expect(rows[1]!.ms).toEqual({ forward: 1, dataGradient: 1.5, parameterGradients: 2.5, update: 0 });
    expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 12);
    expect(conv.share).toBeCloseTo(13 / 26, 12);
    const table = layerTable(p).split('\n');
    expect(table[0]).toMatch(/^layer +module +forward ms +backward: data ms +backward: parameters ms +update ms +total ms +share +GFLOP\/s +saved for backward$/);
    // '-' where a layer did none of that work, or saved nothing.
    expect(table.find((l) => l.startsWith('fc '))).toMatch(/^fc +Linear +1\.0 +1\.5 +2\.5 +- +5\.0 +38\.5% +512 B$/);
    expect(table.find((l) => l.startsWith('conv '))).toMatch(/ 2\.00 KiB$/);
    expect(table.find((l) => l.startsWith('loss '))).toMatch(/ -$/);
    expect(rows.map((r) => r.savedBytes)).toEqual([2048, 512, 0, 0, 0]);
  });

  it('lays two profiles side by side, a frozen layer with its forward alone', () => {
    const full = profile([at('conv', 'forward', 'conv2d.forward.blocked', 4), at('conv', 'backward', 'conv2d.weight_grad.blocked', 6), at('conv', 'optimizer', 'optim.sgd', 2)], 'full');
    const frozen = profile([at('conv', 'forward', 'conv2d.forward.blocked', 4), at('fc', 'optimizer', 'optim.sgd', 2)], 'frozen');
    const lines = compareLayerTable(full, frozen).split('\n');
    expect(lines[0]).toMatch(/^layer +module +full: fwd +bwd data +bwd params +update +total +saved +frozen: fwd +bwd data +bwd params +update +total +saved$/);
    expect(lines[2]).toMatch(/^conv +Conv2d +2\.0 +- +3\.0 +1\.0 +6\.0 +2\.00 KiB +2\.0 +- +- +- +2\.0 +-$/);
    expect(lines[3]).toMatch(/^fc +Linear +- +- +- +- +- +- +- +- +- +1\.0 +1\.0 +512 B$/);
  });
});

/** A block whose own forward adds its input to a convolution's output (a residual). */
class Block extends Module {
  readonly conv: Conv2d;
  constructor() {
    super();
    this.conv = this.addModule('conv', new Conv2d(2, 2, 3, { padding: 1 }));
  }
  forward(x: Tensor): Tensor {
    return add(this.conv.forward(x), x);
  }
}

class Net extends Module {
  readonly block: Block;
  constructor() {
    super();
    this.block = this.addModule('block', new Block());
  }
  forward(x: Tensor): Tensor {
    return this.block.forward(x);
  }
}

describe('dispatch labels', () => {
  it('name the innermost module of the forward, the graph node of the backward, the parameter of the update', async () => {
    const ctx = await testContext();
    if (!ctx.hasFeature('timestamp-query')) return;
    const net = new Net();
    const optimizer = new SGD(net.parameters(), { lr: 0.1 });
    const x = randn([1, 2, 4, 4], 3);
    x.requiresGrad = true;
    const unlabel = labelLayers(net);
    ctx.startProfiling();
    const y = net.forward(x);
    const forwardCount = ctx.recorder.stats.dispatches;
    const loss = sum(y);
    backward(loss);
    optimizer.step();
    const timings = await ctx.stopProfiling();
    unlabel();
    const named = (pattern: RegExp) => [...new Set(timings.filter((t) => pattern.test(t.name)).map((t) => t.layer))];
    expect(named(/^conv2d\.forward/)).toEqual(['block.conv']);
    expect(named(/^binary\.add/)).toContain('block'); // the residual addition: the block's own
    expect(named(/^conv2d\.(weight|bias|input)_grad/)).toEqual(['block.conv']);
    expect(named(/^optim\./)).toEqual(['block.conv']);
    expect(forwardCount).toBeGreaterThan(0);
    // The wrappers come off: the modules are as they were, and no label is left set.
    for (const [, m] of net.namedModules()) expect(Object.hasOwn(m, 'forward')).toBe(false);
    expect(dispatchLabel()).toBeUndefined();
    for (const t of [x, y, loss]) t.dispose();
    optimizer.dispose();
    net.dispose();
  });
});

describe('profileTrainStep, layer by layer', () => {
  it("saves for backward what the bench's memory model counts, layer by layer, full and frozen", async () => {
    const ctx = await testContext();
    for (const spec of [
      { model: 'smallvgg', batch: 4, size: 32, classes: 2, frozenBase: false },
      { model: 'smallvgg', batch: 4, size: 32, classes: 2, frozenBase: true },
      { model: 'vgg16', batch: 2, size: 32, classes: 3, frozenBase: false },
      { model: 'vgg16', batch: 2, size: 32, classes: 3, frozenBase: true },
      { model: 'smallvgg', batch: 4, size: 32, classes: 2, frozenBase: true, headOnly: true },
      { model: 'vgg16', batch: 2, size: 32, classes: 3, frozenBase: true, headOnly: true },
    ] satisfies StepSpec[]) {
      const { parts, release } = ourStepParts(ctx, spec);
      const p = await profileTrainStep(parts, { steps: 1, warmup: 1, timestamps: false });
      await release();
      // An independent count (bench/train-step.ts walks the architecture by the engine's rules).
      const saved = Object.values(p.savedBytes).reduce((a, b) => a + b, 0);
      expect(saved, stepName(spec)).toBe(expectedMemory(spec).savedActivations);
      const base = Object.entries(p.savedBytes).filter(([layer]) => layer.startsWith('features.'));
      if (spec.frozenBase) expect(base, spec.model).toEqual([]);
      else expect(base.length, spec.model).toBeGreaterThan(0);
      // Head only: the head's input is all the classifier saves (its weight gradient needs it).
      const classifier = Object.keys(p.savedBytes).filter((layer) => layer.startsWith('classifier.'));
      if (spec.headOnly) expect(classifier, stepName(spec)).toEqual([headPathOf(parts.model)]);
    }
  });

  it('names every dispatch, and a frozen base layer costs its forward and nothing else', async () => {
    const ctx = await testContext();
    if (!ctx.hasFeature('timestamp-query')) return;
    const [full, frozen] = [await profileSmallVgg(false, { steps: 2, label: 'full fine-tune' }), await profileSmallVgg(true, { steps: 2, label: 'frozen base' })];
    console.log(compareLayerTable(full, frozen));
    for (const p of [full, frozen]) {
      expect(p.dispatches.filter((d) => d.layer === undefined).map((d) => d.name)).toEqual([]);
      const rows = layerCosts(p);
      expect(rows.reduce((s, r) => s + r.totalMs, 0)).toBeCloseTo(p.gpuMsPerStep!, 6);
      // Each kernel in the layer that computes it.
      const layersOf = (pattern: RegExp) => [...new Set(p.dispatches.filter((d) => pattern.test(d.name)).map((d) => p.modules[d.layer!] ?? d.layer))];
      expect(layersOf(/^conv2d\./)).toEqual(['Conv2d']);
      expect(layersOf(/^matmul\./)).toEqual(['Linear']);
      expect(layersOf(/^pool\.max/)).toEqual(['MaxPool2d']);
      expect(layersOf(/^cross_entropy/)).toEqual(['loss']);
    }
    const convLayers = Object.entries(full.modules).filter(([, m]) => m === 'Conv2d').map(([path]) => path);
    expect(convLayers).toHaveLength(6);
    const fullRows = layerCosts(full);
    const frozenRows = layerCosts(frozen);
    for (const path of convLayers) {
      const f = fullRows.find((r) => r.layer === path)!;
      expect(f.module).toBe('Conv2d + ReLU');
      expect(f.dispatches.parameterGradients, path).toBeGreaterThan(0);
      expect(f.dispatches.update, path).toBe(2); // weight and bias
      const z = frozenRows.find((r) => r.layer === path)!;
      expect(z.dispatches, path).toEqual({ forward: 1, dataGradient: 0, parameterGradients: 0, update: 0 });
      // What backward reads: the trainable convolution keeps its input (or its ReLU's output), the frozen one nothing.
      expect(f.savedBytes, path).toBeGreaterThan(0);
      expect(z.savedBytes, path).toBe(0);
    }
    for (const p of [full, frozen]) {
      const saved = Object.values(p.savedBytes).reduce((a, b) => a + b, 0);
      expect(layerCosts(p).reduce((a, r) => a + r.savedBytes, 0), p.label).toBe(saved);
    }
    // The first convolution's input is the images: no gradient flows into them.
    expect(full.dispatches.filter((d) => d.layer === 'features.0' && /^conv2d\.input_grad/.test(d.name))).toEqual([]);
    // Under the frozen base the classifier still trains, its first layer with no data gradient to pass back.
    const head = frozenRows.find((r) => r.layer === 'classifier.0')!;
    expect(head.dispatches.parameterGradients).toBeGreaterThan(0);
    expect(head.dispatches.update).toBe(2);
    // The trace names each kernel's layer.
    const kernels = chromeTrace([full]).traceEvents.filter((e) => e.ph === 'X' && e.tid === 2);
    expect(kernels.find((e) => (e.args as { layer?: string }).layer === 'features.0')?.name).toMatch(/^features\.0 conv2d\.forward/);
  });
});

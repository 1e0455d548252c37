// What the guide's measurements share: the demo's model and images, the three ways of freezing
// it, one training step, and a window on the kernels the pipeline cache compiles.
import type { GpuContext } from '../../src/runtime/context.js';
import type { KernelSource } from '../../src/runtime/pipelines.js';
import type { Tensor } from '../../src/autograd/tensor.js';
import { tidy } from '../../src/autograd/scope.js';
import { backward } from '../../src/ops/grad.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { smallVgg, type VGG } from '../../src/models/vgg.js';
import { freeze, freezeAllButHead, unfreeze, unfreezeFrom } from '../../src/models/freeze.js';
import { packBatch } from '../../src/data/pack-batch.js';
import { Augmenter } from '../../src/data/augment/augmenter.js';
import { SGD } from '../../src/optim/sgd.js';
import { DEMO_MODEL } from '../../src/demo/experiments.js';
import { DRAWN_SIZE, INPUT_SIZE } from '../../src/demo/tasks.js';
import { drawTask, TARGET_CLASSES } from '../../src/demo/shapes.js';

const captured = new WeakMap<GpuContext, Map<string, KernelSource>>();

/** Records the source of every kernel the pipeline cache is asked for from now on, by kernel name. */
export function captureKernels(ctx: GpuContext): Map<string, KernelSource> {
  const existing = captured.get(ctx);
  if (existing) return existing;
  const seen = new Map<string, KernelSource>();
  captured.set(ctx, seen);
  const get = ctx.pipelines.get.bind(ctx.pipelines);
  ctx.pipelines.get = (source) => {
    if (!seen.has(source.name)) seen.set(source.name, source);
    return get(source);
  };
  return seen;
}

/** The demo's network (small VGG, 32x32 input) with a 4-class head, as the demo builds it. */
export function demoModel(ctx: GpuContext, seed = 1): VGG {
  return smallVgg({ ...DEMO_MODEL, numClasses: TARGET_CLASSES.length, seed, ctx });
}

/** `n` target-task images through the demo's evaluation transform (Resize 36, CenterCrop 32). */
export function demoBatch(ctx: GpuContext, n: number, seed = 1): { images: Tensor; labels: number[] } {
  const perClass = Math.ceil(n / TARGET_CLASSES.length);
  const drawn = drawTask(TARGET_CLASSES, { size: DRAWN_SIZE, perClass, seed: 7, stream: 100 + seed }).slice(0, n);
  const batch = packBatch(drawn.map((d, i) => ({ pixels: d.pixels, width: DRAWN_SIZE, height: DRAWN_SIZE, label: d.label, path: `drawn:${i}`, sampleIndex: i })));
  const transform = new Augmenter(ctx, { outputSize: INPUT_SIZE, resize: DRAWN_SIZE });
  const { images } = transform.apply(batch);
  transform.dispose();
  return { images, labels: drawn.map((d) => d.label) };
}

/** Which parameters train: the recipe's two phases and the usual middle ground. */
export const STATES = ['head only', 'last block + classifier', 'everything'] as const;
export type TrainState = (typeof STATES)[number];

export function applyState(model: VGG, state: TrainState): void {
  const all = (name: string) => name.length > 0;
  if (state === 'head only') freezeAllButHead(model);
  else if (state === 'everything') unfreeze(model, all);
  else {
    freeze(model, all);
    unfreezeFrom(model, 'features.10'); // the last conv block: features.10 and features.12
  }
}

export function sgdFor(model: VGG): SGD {
  return new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
}

/** The parts of a step, in order; `recordStep` calls `mark` as each one ends. */
export type StepPart = 'forward' | 'backward' | 'update';

/**
 * One training step as the Trainer runs it (forward, loss, backward, update), not yet submitted.
 * `mark` is called at the end of each part (the chapters measure memory and dispatches there).
 */
export function recordStep(model: VGG, optimizer: SGD, images: Tensor, labels: number[], mark: (part: StepPart) => void = () => {}): void {
  tidy(() => {
    const loss = crossEntropy(model.forward(images), labels);
    mark('forward');
    backward(loss);
    mark('backward');
    optimizer.step();
    mark('update');
    optimizer.zeroGrad();
  });
}

/** Dispatch counts between two snapshots of `recorder.stats.perKernel`. */
export function kernelDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, n] of after) if (n - (before.get(name) ?? 0) > 0) out.set(name, n - (before.get(name) ?? 0));
  return out;
}

export const total = (counts: ReadonlyMap<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

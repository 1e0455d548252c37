// Chapter 5, across epochs: what validating a frozen base costs with its outputs kept
// (src/train/feature-cache.ts) and without. The demo's network with only its head training, two
// transfer epochs each way; per validation pass, the dispatches recorded and the wall time from
// an idle GPU to the epoch's record. Then the same for the training pass without augmentation
// (src/train/sample-feature-cache.ts): per epoch, the batches read, a step's dispatches, the
// training time.
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { Trainer, type BatchSource, type StepWatcher } from '../../src/train/trainer.js';
import { describeFeatureCache, type FeatureCacheEvent } from '../../src/train/feature-cache.js';
import type { PhaseConfig } from '../../src/train/plan.js';
import { memoryBatches } from '../../src/demo/memory-source.js';
import { demoTransforms, targetTask } from '../../src/demo/tasks.js';
import { demoModel } from './common.js';
import { sig, table, type GuideOutput } from './output.js';

interface ValidationPass {
  dispatches: number;
  wallMs: number;
  /** Validation batches read from the source (decoded, uploaded, transformed) in this pass. */
  batchesRead: number;
}

const PHASE: PhaseConfig = { name: 'transfer', epochs: 2, trainable: { kind: 'head' }, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } };

/** A source that counts the batches read from it (each one decoded, uploaded and transformed). */
function counted(source: BatchSource): BatchSource & { read: number } {
  const wrapped = {
    samples: source.samples,
    batchSize: source.batchSize,
    dropLast: source.dropLast,
    read: 0,
    order: source.order?.bind(source),
    async *epoch(e: number) {
      for await (const batch of source.epoch(e)) {
        wrapped.read++;
        yield batch;
      }
    },
  };
  return wrapped;
}

/** Two transfer epochs; each epoch's validation pass, measured from the end of its last step. */
async function validationPasses(ctx: GpuContext, o: { batch: number; perClass: number }, featureCacheBytes: number | undefined) {
  const task = targetTask(o.perClass, o.perClass, 0, 1);
  const validation = counted(memoryBatches(task.validation, { batchSize: o.batch, seed: 1, shuffle: false }));
  const data = { classes: task.classes, train: memoryBatches(task.train, { batchSize: o.batch, seed: 1, shuffle: true }), validation, ...demoTransforms(ctx) };
  const stepsPerEpoch = Math.ceil(task.train.length / o.batch);
  const passes: ValidationPass[] = [];
  const events: FeatureCacheEvent[] = [];
  let step = 0;
  let start = { dispatches: 0, time: 0, read: 0 };
  // After an epoch's last step: wait for the GPU, then start the clock on the validation pass.
  const clock: StepWatcher = {
    beforeBackward: () => undefined,
    afterUpdate: () => undefined,
    afterStep: async () => {
      if (++step % stepsPerEpoch !== 0) return;
      await ctx.recorder.sync();
      start = { dispatches: ctx.recorder.stats.dispatches, time: performance.now(), read: validation.read };
    },
  };
  const model = demoModel(ctx);
  try {
    await new Trainer(ctx, model, data, { seed: 1, featureCacheBytes }, {
      watch: clock,
      onFeatureCache: (event) => void events.push(event),
      onEpoch: () => void passes.push({ dispatches: ctx.recorder.stats.dispatches - start.dispatches, wallMs: performance.now() - start.time, batchesRead: validation.read - start.read }),
    }).run([PHASE]);
  } finally {
    model.dispose();
  }
  return { passes, events, images: task.validation.length };
}

export async function chapter5Validation(ctx: GpuContext, out: GuideOutput, o: { batch: number; perClass: number }): Promise<void> {
  const off = await validationPasses(ctx, o, 0);
  const on = await validationPasses(ctx, o, undefined);
  await out.fragment(
    'ch5-validation-cache',
    withAndWithout(['validation pass', 'batches read, decoded and transformed', 'dispatches', 'wall ms'], (p) => [p.batchesRead, p.dispatches, sig(p.wallMs)], off.passes, on, [
      `demo network, its head training; ${on.images} validation images in batches of ${o.batch}; the dispatches include the loss and accuracy sums and the confusion counts;`,
      `wall time from an idle GPU after the epoch's last step to the epoch's record; ${adapterLabel(ctx.adapter)}.`,
    ].join(' ')),
  );
}

/** Two epochs without the cache and two with it, one row each; the trainer's line; what was measured. */
function withAndWithout<P>(columns: string[], cells: (pass: P) => (string | number)[], off: P[], on: { passes: P[]; events: FeatureCacheEvent[] }, note: string): string {
  const rows: [string, P][] = [
    ['without the cache, epoch 1', off[0]!],
    ['without the cache, epoch 2', off[1]!],
    ['with it, epoch 1 (keeps the outputs)', on.passes[0]!],
    ['with it, epoch 2 (from the kept outputs)', on.passes[1]!],
  ];
  return [
    table(columns, rows.map(([label, pass]) => [label, ...cells(pass)])),
    '',
    `The trainer's line: "${on.events.map(describeFeatureCache).join('; ')}".`,
    '',
    `(${note})`,
  ].join('\n');
}

interface TrainingPass {
  batchesRead: number;
  /** Dispatches of the epoch's last step (counted from the step before: no validation in between). */
  stepDispatches: number;
  trainingMs: number;
}

/** Two transfer epochs without augmentation (training takes the validation transform); each epoch's training pass. */
async function trainingPasses(ctx: GpuContext, o: { batch: number; perClass: number }, featureCacheBytes: number | undefined) {
  const task = targetTask(o.perClass, o.perClass, 0, 1);
  const { evalTransform } = demoTransforms(ctx);
  const train = counted(memoryBatches(task.train, { batchSize: o.batch, seed: 1, shuffle: true }));
  const data = { classes: task.classes, train, validation: memoryBatches(task.validation, { batchSize: o.batch, seed: 1, shuffle: false }), trainTransform: evalTransform, evalTransform };
  const passes: TrainingPass[] = [];
  const events: FeatureCacheEvent[] = [];
  let read = 0;
  let dispatches = 0;
  let stepDispatches = 0;
  const step: StepWatcher = {
    beforeBackward: () => undefined,
    afterUpdate: () => undefined,
    afterStep: async () => {
      stepDispatches = ctx.recorder.stats.dispatches - dispatches;
      dispatches = ctx.recorder.stats.dispatches;
    },
  };
  const model = demoModel(ctx);
  try {
    await new Trainer(ctx, model, data, { seed: 1, featureCacheBytes }, {
      watch: step,
      onFeatureCache: (event) => void events.push(event),
      onEpoch: (record) => {
        passes.push({ batchesRead: train.read - read, stepDispatches, trainingMs: (1000 * task.train.length) / record.imagesPerSecond });
        read = train.read;
      },
    }).run([PHASE]);
  } finally {
    model.dispose();
  }
  return { passes, events: events.filter((e) => e.pass === 'training'), images: task.train.length };
}

export async function chapter5TrainingCache(ctx: GpuContext, out: GuideOutput, o: { batch: number; perClass: number }): Promise<void> {
  const off = await trainingPasses(ctx, o, 0);
  const on = await trainingPasses(ctx, o, undefined);
  await out.fragment(
    'ch5-training-cache',
    withAndWithout(['training pass, no augmentation', 'batches read, decoded and transformed', 'dispatches per step', 'training ms'], (p) => [p.batchesRead, p.stepDispatches, sig(p.trainingMs)], off.passes, on, [
      `demo network, its head training; ${on.images} training images in batches of ${o.batch}, Resize + CenterCrop; a step's dispatches include the loss and accuracy sums;`,
      `training time as the epoch's record gives it; ${adapterLabel(ctx.adapter)}.`,
    ].join(' ')),
  );
}

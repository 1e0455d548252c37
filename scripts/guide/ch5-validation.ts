// Chapter 5, across epochs: what validating a frozen base costs with its outputs kept
// (src/train/feature-cache.ts) and without. The demo's network with only its head training, two
// transfer epochs each way; per validation pass, the dispatches recorded and the wall time from
// an idle GPU to the epoch's record.
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { Trainer, type StepWatcher } from '../../src/train/trainer.js';
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

/** Two transfer epochs; each epoch's validation pass, measured from the end of its last step. */
async function validationPasses(ctx: GpuContext, o: { batch: number; perClass: number }, featureCacheBytes: number | undefined) {
  const task = targetTask(o.perClass, o.perClass, 0, 1);
  const validation = memoryBatches(task.validation, { batchSize: o.batch, seed: 1, shuffle: false });
  let batchesRead = 0;
  const countedValidation = { samples: validation.samples, batchSize: validation.batchSize, epoch: (e: number) => counted(validation.epoch(e)) };
  async function* counted<T>(batches: AsyncIterable<T>): AsyncIterable<T> {
    for await (const batch of batches) {
      batchesRead++;
      yield batch;
    }
  }
  const data = { classes: task.classes, train: memoryBatches(task.train, { batchSize: o.batch, seed: 1, shuffle: true }), validation: countedValidation, ...demoTransforms(ctx) };
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
      start = { dispatches: ctx.recorder.stats.dispatches, time: performance.now(), read: batchesRead };
    },
  };
  const model = demoModel(ctx);
  try {
    await new Trainer(ctx, model, data, { seed: 1, featureCacheBytes }, {
      watch: clock,
      onFeatureCache: (event) => void events.push(event),
      onEpoch: () => void passes.push({ dispatches: ctx.recorder.stats.dispatches - start.dispatches, wallMs: performance.now() - start.time, batchesRead: batchesRead - start.read }),
    }).run([PHASE]);
  } finally {
    model.dispose();
  }
  return { passes, events, images: task.validation.length };
}

export async function chapter5Validation(ctx: GpuContext, out: GuideOutput, o: { batch: number; perClass: number }): Promise<void> {
  const off = await validationPasses(ctx, o, 0);
  const on = await validationPasses(ctx, o, undefined);
  const row = (label: string, p: ValidationPass) => [label, p.batchesRead, p.dispatches, sig(p.wallMs)];
  await out.fragment(
    'ch5-validation-cache',
    [
      table(
        ['validation pass', 'batches read, decoded and transformed', 'dispatches', 'wall ms'],
        [
          row('without the cache, epoch 1', off.passes[0]!),
          row('without the cache, epoch 2', off.passes[1]!),
          row('with it, epoch 1 (keeps the outputs)', on.passes[0]!),
          row('with it, epoch 2 (from the kept outputs)', on.passes[1]!),
        ],
      ),
      '',
      `The trainer's line: "${on.events.map(describeFeatureCache).join('; ')}".`,
      '',
      `(demo network, its head training; ${on.images} validation images in batches of ${o.batch}; the dispatches include the loss and accuracy sums; wall time from an idle GPU after the epoch's last step to the epoch's record; ${adapterLabel(ctx.adapter)}.)`,
    ].join('\n'),
  );
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testContext } from '../helpers/gpu.js';
import { countedSource } from '../helpers/counted-source.js';
import { Dropout, GpuContext, Linear, ReLU, Sequential, VGG, freezeAllButHead, vggFeatures, withSeed } from '../../src/node.js';
import { Trainer, StoppedError, type EpochRecord, type TrainerData, type TrainerHooks, type TrainerPosition } from '../../src/train/trainer.js';
import { frozenSplit, type FeatureCacheEvent } from '../../src/train/feature-cache.js';
import type { PhaseConfig } from '../../src/train/plan.js';
import { saveCheckpoint, loadCheckpoint } from '../../src/train/checkpoint-node.js';
import { memoryBatches } from '../../src/demo/memory-source.js';
import { BatchLoader } from '../../src/data/loader.js';
import { BadImageError } from '../../src/data/bad-file.js';
import { demoTransforms, targetTask } from '../../src/demo/tasks.js';
import type { Module } from '../../src/nn/module.js';

let ctx: GpuContext;
let dir: string;
beforeAll(async () => {
  ctx = await testContext();
  dir = await mkdtemp(join(tmpdir(), 'wgt-sample-cache-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const task = targetTask(4, 2, 0, 1); // 16 training images, 8 validation
const phases: PhaseConfig[] = [
  { name: 'transfer', epochs: 3, trainable: { kind: 'head' }, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
  { name: 'finetune', epochs: 1, trainable: { kind: 'all' }, optimizer: 'sgd', lr: 0.005, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
];
// A dropout before the head, as VGG16's classifier has: in training mode it ends what can be kept.
const makeModel = () =>
  withSeed(3, () => new VGG(vggFeatures([4, 'M', 8, 'M'], false, ctx), 2, new Sequential(new Linear(32, 8, { ctx }), new ReLU(), new Dropout(0.5), new Linear(8, 4, { ctx }))));
const PER_IMAGE = 8; // classifier.1's outputs

interface Run {
  history: EpochRecord[];
  weights: Float32Array[];
  trainingPasses: number;
  events: FeatureCacheEvent[];
}

interface SourceOptions {
  batchSize?: number;
  dropLast?: boolean;
  /** Training samples whose "file" fails to decode (skipped and counted, as a corrupt JPEG is). */
  bad?: readonly number[];
}

/** The task's training images behind the batch loader, as memoryBatches has them, with bad files if asked. */
function trainingSource({ batchSize = 5, dropLast = false, bad = [] }: SourceOptions) {
  const samples = task.train.map((image, i) => ({ path: `memory:${i}`, label: image.label }));
  const decode = async (path: string) => {
    const index = Number(path.slice('memory:'.length));
    if (bad.includes(index)) throw new BadImageError(path, 'truncated', 'the data ends before the image does');
    const { pixels, width, height } = task.train[index]!;
    return { pixels, width, height };
  };
  return countedSource(new BatchLoader(samples, decode, { batchSize, seed: 7, shuffle: true, dropLast, concurrency: 1, prefetchBatches: 0 }));
}

/** Trains `phases` without augmentation (training batches take the validation transform). */
async function train(featureCacheBytes: number | undefined, options: SourceOptions & { augment?: boolean } = {}): Promise<Run> {
  const model = makeModel();
  const source = trainingSource(options);
  const transforms = demoTransforms(ctx);
  const data: TrainerData = {
    classes: task.classes,
    train: source,
    validation: memoryBatches(task.validation, { batchSize: 3, seed: 7, shuffle: false }),
    trainTransform: options.augment ? transforms.trainTransform : transforms.evalTransform,
    evalTransform: transforms.evalTransform,
  };
  const events: FeatureCacheEvent[] = [];
  const history = await new Trainer(ctx, model, data, { seed: 7, featureCacheBytes }, { onFeatureCache: (e) => void events.push(e) }).run(phases);
  const weights = await Promise.all(model.parameters().map(async (p) => (await p.read()) as Float32Array));
  model.dispose();
  return { history, weights, trainingPasses: source.passes, events };
}

/** An epoch's figures without its wall times. */
const figures = (history: EpochRecord[]) => history.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);

const trainingKept = (images: number): FeatureCacheEvent => ({ kind: 'kept', pass: 'training', lastFrozen: 'classifier.1', images, bytes: 16 * PER_IMAGE * 4, perImage: [PER_IMAGE] });

describe('training of a frozen base without augmentation (train/sample-feature-cache.ts)', () => {
  let uncached: Run;
  beforeAll(async () => {
    uncached = await train(0);
  });

  it('runs the base once per phase, and trains to the same figures and weights, bit for bit', async () => {
    const cached = await train(undefined);
    expect(uncached.trainingPasses).toBe(4); // every epoch decodes
    expect(cached.trainingPasses).toBe(2); // transfer's first epoch, and finetune's (nothing frozen)
    expect(figures(cached.history)).toEqual(figures(uncached.history));
    expect(cached.weights).toEqual(uncached.weights);
    expect(cached.events).toEqual([
      trainingKept(16),
      // Validation keeps the layers up to the dropout too: it is the identity in eval mode.
      { kind: 'kept', pass: 'validation', lastFrozen: 'classifier.2', images: 8, bytes: 8 * PER_IMAGE * 4, perImage: [PER_IMAGE] },
    ]);
  });

  it('keeps nothing for training from a source that drops its short last batch (those images never ran)', async () => {
    const reference = await train(0, { batchSize: 6, dropLast: true }); // 2 batches of 6: 4 images left out, others each epoch
    const cached = await train(undefined, { batchSize: 6, dropLast: true });
    expect(cached.trainingPasses).toBe(4);
    expect(cached.events.map((e) => e.pass)).toEqual(['validation']);
    expect(figures(cached.history)).toEqual(figures(reference.history));
  });

  it('makes the same batches as the loader, the last one short', async () => {
    const reference = await train(0, { batchSize: 6 }); // 6, 6, 4
    const cached = await train(undefined, { batchSize: 6 });
    expect(cached.trainingPasses).toBe(2);
    expect(figures(cached.history)).toEqual(figures(reference.history));
    expect(cached.weights).toEqual(reference.weights);
  });

  it('skips a bad file in the kept epochs as the loader does, filling the batch from the files after it', async () => {
    const reference = await train(0, { bad: [3, 10] });
    const cached = await train(undefined, { bad: [3, 10] });
    expect(cached.trainingPasses).toBe(2);
    expect(cached.events[0]).toEqual({ ...trainingKept(14), bytes: 16 * PER_IMAGE * 4 }); // a row for every sample, 14 written
    expect(figures(cached.history)).toEqual(figures(reference.history));
    expect(cached.weights).toEqual(reference.weights);
    expect(figures(cached.history)).not.toEqual(figures(uncached.history)); // the bad files did change the run
    expect(cached.history.map((r) => r.skippedFiles)).toEqual([2, 0, 0, 0]); // counted once, as without the cache
  });

  it('keeps nothing over its budget and says so once; validation gets the budget', async () => {
    const budget = 16 * PER_IMAGE * 4 - 1;
    const cached = await train(budget);
    expect(cached.trainingPasses).toBe(4);
    expect(figures(cached.history)).toEqual(figures(uncached.history));
    expect(cached.events).toEqual([
      { kind: 'too-large', pass: 'training', lastFrozen: 'classifier.1', bytes: 16 * PER_IMAGE * 4, maxBytes: budget, images: 16 },
      { kind: 'kept', pass: 'validation', lastFrozen: 'classifier.2', images: 8, bytes: 8 * PER_IMAGE * 4, perImage: [PER_IMAGE] },
    ]);
  });

  it('keeps nothing for training while the transform is random', async () => {
    const augmented = await train(undefined, { augment: true });
    expect(augmented.trainingPasses).toBe(4);
    expect(augmented.events.map((e) => e.pass)).toEqual(['validation']);
  });

  it('an epoch resumed mid-way neither uses nor fills the cache; the next one fills it', async () => {
    const path = join(dir, 'checkpoint.safetensors');
    const data = () => {
      const transforms = demoTransforms(ctx);
      return {
        classes: task.classes,
        train: trainingSource({}),
        validation: memoryBatches(task.validation, { batchSize: 3, seed: 7, shuffle: false }),
        trainTransform: transforms.evalTransform,
        evalTransform: transforms.evalTransform,
      };
    };
    const run = (model: Module, source: TrainerData, events: FeatureCacheEvent[], hooks: TrainerHooks) =>
      new Trainer(ctx, model, source, { seed: 7 }, { ...hooks, onFeatureCache: (e) => void events.push(e), checkpoint: (state) => saveCheckpoint(path, model, state, { test: true }) });

    // Stopped after the second transfer epoch's second batch (steps 1-4 are the first epoch).
    const first = makeModel();
    let steps = 0;
    const firstEvents: FeatureCacheEvent[] = [];
    const stopped = run(first, data(), firstEvents, { onStep: () => void steps++, shouldStop: () => steps === 6 });
    await expect(stopped.run(phases)).rejects.toThrow(StoppedError);
    expect(firstEvents.map((e) => e.pass)).toEqual(['training', 'validation']);
    first.dispose();

    const resumed = makeModel();
    const checkpoint = await loadCheckpoint<{ test: boolean }>(path, resumed);
    const position: TrainerPosition = checkpoint.meta.position;
    expect(position).toMatchObject({ phaseIndex: 0, epoch: 1, batchesDone: 2 });
    const source = data();
    const events: FeatureCacheEvent[] = [];
    const history = await run(resumed, source, events, {}).run(phases, position, checkpoint.restore);
    // The resumed epoch decodes; the third fills the cache again (a full pass); finetune decodes.
    expect(source.train.passes).toBe(3);
    expect(events.map((e) => e.pass)).toEqual(['validation', 'training']);
    expect(figures(history)).toEqual(figures(uncached.history));
    resumed.dispose();
  });
});

describe("frozenSplit in 'train' mode", () => {
  it('ends before a dropout, which draws a new mask every step', () => {
    const model = makeModel();
    freezeAllButHead(model);
    expect(frozenSplit(model, 'train')!.lastFrozen).toBe('classifier.1');
    expect(frozenSplit(model, 'eval')!.lastFrozen).toBe('classifier.2');
    model.dispose();
  });
});

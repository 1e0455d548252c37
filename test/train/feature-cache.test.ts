import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { countedSource } from '../helpers/counted-source.js';
import {
  Dropout, GpuContext, Linear, ReLU, Sequential, VGG, freeze, freezeAllButHead, resnet18, smallVgg, unfreeze, unfreezeFrom, vggFeatures, withSeed,
} from '../../src/node.js';
import { Trainer, type EpochRecord, type TrainerData, type TrainerHooks } from '../../src/train/trainer.js';
import { frozenSplit, type FeatureCacheEvent } from '../../src/train/feature-cache.js';
import type { PhaseConfig } from '../../src/train/plan.js';
import { memoryBatches } from '../../src/demo/memory-source.js';
import { demoTransforms, targetTask } from '../../src/demo/tasks.js';
import { Module } from '../../src/nn/module.js';
import type { Tensor } from '../../src/autograd/tensor.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

const task = targetTask(4, 2, 0, 1); // 16 training images, 8 validation
const phases: PhaseConfig[] = [
  { name: 'transfer', epochs: 3, trainable: { kind: 'head' }, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
  { name: 'finetune', epochs: 1, trainable: { kind: 'all' }, optimizer: 'sgd', lr: 0.005, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
];
const makeModel = () => smallVgg({ widths: [4, 8], hidden: 16, numClasses: 4, seed: 3, ctx });

interface Run {
  history: EpochRecord[];
  weights: Float32Array[];
  validationPasses: number;
  events: FeatureCacheEvent[];
}

async function train(featureCacheBytes: number | undefined, hooks: (model: Module) => TrainerHooks = () => ({})): Promise<Run> {
  const model = makeModel();
  const validation = countedSource(memoryBatches(task.validation, { batchSize: 3, seed: 7, shuffle: false })); // 3 batches, the last short
  const data: TrainerData = { classes: task.classes, train: memoryBatches(task.train, { batchSize: 4, seed: 7, shuffle: true }), validation, ...demoTransforms(ctx) };
  const events: FeatureCacheEvent[] = [];
  const history = await new Trainer(ctx, model, data, { seed: 7, featureCacheBytes }, { ...hooks(model), onFeatureCache: (e) => void events.push(e) }).run(phases);
  const weights = await Promise.all(model.parameters().map(async (p) => (await p.read()) as Float32Array));
  model.dispose();
  return { history, weights, validationPasses: validation.passes, events };
}

/** An epoch's figures without its wall times. */
const figures = (history: EpochRecord[]) => history.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);

describe('validation of a frozen base (train/feature-cache.ts)', () => {
  let uncached: Run;
  beforeAll(async () => {
    uncached = await train(0);
  });

  it('runs the base once per phase and gives the same figures and weights, bit for bit', async () => {
    const cached = await train(undefined);
    expect(uncached.validationPasses).toBe(4); // every epoch
    expect(cached.validationPasses).toBe(2); // transfer's first epoch, and finetune's (nothing frozen)
    expect(figures(cached.history)).toEqual(figures(uncached.history));
    expect(cached.weights).toEqual(uncached.weights);
    // smallVgg's head is classifier.2: the base ends with the hidden layer's ReLU, 16 numbers per image.
    expect(cached.events).toEqual([{ kind: 'kept', pass: 'validation', lastFrozen: 'classifier.1', images: 8, bytes: 8 * 16 * 4, perImage: [16] }]);
    expect(uncached.events).toEqual([]);
  });

  it('keeps nothing over its budget, and says so once', async () => {
    const cached = await train(8 * 16 * 4 - 1);
    expect(cached.validationPasses).toBe(4);
    expect(figures(cached.history)).toEqual(figures(uncached.history));
    expect(cached.events).toEqual([{ kind: 'too-large', pass: 'validation', lastFrozen: 'classifier.1', bytes: 8 * 16 * 4, maxBytes: 8 * 16 * 4 - 1, images: 8 }]);
  });

  it('runs the base again after weights are loaded into it', async () => {
    // After the first epoch a hook changes the frozen base: the kept outputs are stale.
    const perturb = (model: Module): TrainerHooks => {
      const donor = smallVgg({ widths: [4, 8], hidden: 16, numClasses: 4, seed: 11, ctx });
      return {
        onEpoch: async (record) => {
          if (record.phase !== 'transfer' || record.epoch !== 1) return;
          model.loadStateDict(new Map([...donor.stateDict()].filter(([key]) => !key.startsWith('classifier.2.'))), { strict: false });
          donor.dispose();
        },
      };
    };
    const reference = await train(0, perturb);
    const cached = await train(undefined, perturb);
    expect(figures(reference.history)[1]).not.toEqual(figures(uncached.history)[1]); // the hook does change the base
    expect(figures(cached.history)).toEqual(figures(reference.history));
    expect(cached.validationPasses).toBe(3); // transfer epochs 1 and 2, finetune
  });
});

describe('frozenSplit: where a model splits into frozen leading layers and the rest', () => {
  const vggWithDropout = (batchNorm: boolean) =>
    withSeed(1, () => new VGG(vggFeatures([4, 'M', 8, 'M'], batchNorm, ctx), 2, new Sequential(new Linear(32, 8, { ctx }), new ReLU(), new Dropout(0.5), new Linear(8, 2, { ctx }))));

  it('ends before the first trainable layer, with dropout inside (the identity in eval mode)', () => {
    const model = vggWithDropout(false);
    freezeAllButHead(model);
    const split = frozenSplit(model)!;
    expect(split.lastFrozen).toBe('classifier.2');
    expect(split.rest).toEqual([model.classifier.at(3)]);
    unfreezeFrom(model, 'features.3');
    expect(frozenSplit(model)!.lastFrozen).toBe('features.2');
    unfreeze(model, '**');
    expect(frozenSplit(model)).toBeNull();
    model.dispose();
  });

  it('ends before a BatchNorm that moves its statistics while training (bnMode follow-model)', () => {
    const model = vggWithDropout(true);
    freezeAllButHead(model, { bnMode: 'follow-model' });
    expect(frozenSplit(model)!.lastFrozen).toBe('features.0');
    freezeAllButHead(model); // frozen-eval: the statistics stay as loaded
    expect(frozenSplit(model)!.lastFrozen).toBe('classifier.2');
    model.dispose();
  });

  it('splits ResNet18 between blocks, and never after the last layer', () => {
    const model = resnet18({ numClasses: 2, seed: 1, ctx });
    freeze(model, '**');
    unfreezeFrom(model, 'layer4.1');
    expect(frozenSplit(model)!.lastFrozen).toBe('layer4.0');
    freeze(model, '**');
    expect(frozenSplit(model)!.rest).toEqual([model.fc]); // all frozen: the last layer still runs
    model.dispose();
  });

  it('needs a model that gives its layers in order', () => {
    class Opaque extends Module {
      readonly first = this.addModule('first', new Linear(4, 4, { ctx }));
      readonly second = this.addModule('second', new Linear(4, 2, { ctx }));
      forward(x: Tensor): Tensor {
        return this.second.forward(this.first.forward(x));
      }
    }
    const model = new Opaque();
    freeze(model, 'first');
    expect(frozenSplit(model)).toBeNull();
    model.dispose();
  });
});

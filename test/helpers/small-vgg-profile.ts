// One small VGG (4, 8, 8 channels; 2 images of 16x16) profiled through training steps, its
// convolutional base frozen or not: what the profiler tests read.
import { expect } from 'vitest';
import { testContext } from './gpu.js';
import { Tensor } from '../../src/autograd/tensor.js';
import { randn } from '../../src/ops/creation.js';
import { smallVgg } from '../../src/models/vgg.js';
import { freeze } from '../../src/models/freeze.js';
import { SGD } from '../../src/optim/sgd.js';
import { profileTrainStep, type ProfileOptions, type StepProfile } from '../../src/train/profile.js';

export async function profileSmallVgg(frozenBase: boolean, options: ProfileOptions): Promise<StepProfile> {
  const ctx = await testContext();
  const model = smallVgg({ widths: [4, 8, 8], hidden: 16, numClasses: 2, seed: 7 }).train();
  if (frozenBase) freeze(model, 'features');
  const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = randn([2, 3, 16, 16], 8);
  const labels = Tensor.fromData(ctx, [0, 1], [2], 'int32', 'labels');
  const profile = await profileTrainStep({ ctx, model, optimizer, images, labels }, { warmup: 2, ...options });
  // The per-layer labels' wrappers are off again: the modules are as they were.
  for (const [path, m] of model.namedModules()) expect(Object.hasOwn(m, 'forward'), path).toBe(false);
  for (const t of [images, labels]) t.dispose();
  optimizer.dispose();
  model.dispose();
  return profile;
}

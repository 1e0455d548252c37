import type { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runBackwardInput, runBatchStats, runGradSums, runNormalize, runRunningStats, type BatchNormVariant } from '../kernels/batchnorm.js';
import { ShapeError } from '../runtime/errors.js';
import { expectFloat, shapeError } from './checks.js';

export interface BatchNormOptions {
  /** Batch statistics (and a running-statistics update) when true; running statistics when false. */
  training: boolean;
  /** Weight of the new batch statistics in the running average (PyTorch's default, 0.1). */
  momentum?: number;
  eps?: number;
  /** The kernels' layout (tests, benchmarks); by default chosen per adapter. */
  variant?: BatchNormVariant;
}

/**
 * Batch normalisation of x [N, C, H, W] over N, H, W per channel, as torch.nn.BatchNorm2d.
 *
 * Training: normalises with the batch mean and biased variance, and updates `runningMean` and
 * `runningVar` in place on the GPU: r ← (1 − momentum)·r + momentum·batch value, with the
 * unbiased variance (PyTorch's rule). The caller (the module) counts num_batches_tracked.
 * Eval: normalises with the running statistics (a per-channel affine map).
 *
 * Backward gives x, weight and bias each a gradient only if asked; it saves the per-channel
 * statistics [C, 4] and x only when a weight gradient or the training-mode input gradient needs
 * it, so a frozen network in eval mode keeps no activation here.
 */
export function batchNorm2d(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  options: BatchNormOptions,
): Tensor {
  expectFloat('batchNorm2d', x, runningMean, runningVar, ...[weight, bias].filter((t): t is Tensor => t !== null));
  if (x.ndim !== 4) throw shapeError('batchNorm2d', 'expected an input [N, C, H, W]', x);
  const [images, channels, height, width] = x.shape as [number, number, number, number];
  for (const t of [weight, bias, runningMean, runningVar]) {
    if (t && t.size !== channels) throw shapeError('batchNorm2d', `'${t.name}' must hold one value per channel (${channels})`, x, t);
  }
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  const training = options.training;
  if (training && images * height * width <= 1) {
    // PyTorch refuses too: the unbiased variance of one value is 0/0.
    throw new ShapeError(`batchNorm2d: expected more than 1 value per channel when training, got input [${x.shape.join(', ')}]`);
  }

  const stats = training
    ? runBatchStats(x, weight, bias, runningMean, runningVar, { momentum, eps, variant: options.variant })
    : runRunningStats(weight, bias, runningMean, runningVar, eps);
  const y = runNormalize(x, stats, options.variant);

  const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
  const slotOf = (t: Tensor | null) => (t ? inputs.indexOf(t) : -1);
  const [xSlot, weightSlot, biasSlot] = [slotOf(x), slotOf(weight), slotOf(bias)];
  const paramsNeedGrad = !!weight?.requiresGrad || !!bias?.requiresGrad;
  const saveX = paramsNeedGrad || (training && x.requiresGrad);
  const result = record('batchNorm2d', y, inputs, saveX ? [stats, x] : [stats], (dy, saved, needs) => {
    const [st, xs] = saved as [Tensor, Tensor | undefined];
    const needX = needs[xSlot]!;
    const needWeight = weightSlot >= 0 && needs[weightSlot]!;
    const needBias = biasSlot >= 0 && needs[biasSlot]!;
    // Σ dy and Σ dy·x̂ are the bias and weight gradients, and training-mode dx needs both.
    const sums = needWeight || needBias || (training && needX) ? runGradSums(xs!, dy, st, options.variant) : null;
    const grads: (Tensor | null)[] = new Array(inputs.length).fill(null);
    if (needX) grads[xSlot] = runBackwardInput(training ? xs! : null, dy, st, training ? sums : null, options.variant);
    if (needWeight) grads[weightSlot] = sums!.sumDyXhat;
    if (needBias) grads[biasSlot] = sums!.sumDy;
    return grads;
  });
  stats.dispose();
  return result;
}

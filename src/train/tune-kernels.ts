import type { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { tidy } from '../autograd/scope.js';
import type { Module } from '../nn/module.js';
import { tuneConvTiles, type TunedLayer, type TuneOptions } from '../kernels/conv2d-tuning.js';

/**
 * Times the GPU convolution's tiles on every layer of `model` at the shape of `input` and keeps
 * the fastest for each (kernels/conv2d-tuning.ts). The forward is recorded, never run, in eval
 * mode so that batch norm's running statistics stay as they are; `input`'s values do not matter.
 */
export async function tuneModelKernels(model: Module, input: Tensor, options: TuneOptions = {}): Promise<TunedLayer[]> {
  const training = model.training;
  model.eval();
  try {
    return await tuneConvTiles(input.ctx, () => noGrad(() => tidy(() => void model.forward(input))), options);
  } finally {
    model.train(training);
  }
}

import type { Tensor } from '../autograd/tensor.js';
import { adaptiveAvgPool2d, maxPool2d } from '../ops/pool.js';
import { pair, type Pair } from './conv.js';
import { Module } from './module.js';

/** Maximum over windows (nn.MaxPool2d); the stride defaults to the kernel size. */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kernelSize: Pair, options: { stride?: Pair; padding?: Pair } = {}) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(options.stride ?? kernelSize);
    this.padding = pair(options.padding ?? 0);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding });
  }

  protected override extraRepr(): string {
    return `kernel_size=${this.kernelSize[0]}, stride=${this.stride[0]}, padding=${this.padding[0]}`;
  }
}

/**
 * Averages over adaptive windows to a fixed output size (nn.AdaptiveAvgPool2d): what lets VGG
 * take any input size (its classifier always sees 512x7x7) and ResNet pool to 1x1.
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: Pair) {
    super();
    this.outputSize = pair(outputSize);
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  protected override extraRepr(): string {
    return `output_size=(${this.outputSize.join(', ')})`;
  }
}

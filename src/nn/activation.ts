import type { Tensor } from '../autograd/tensor.js';
import { relu } from '../ops/elementwise.js';
import { flatten } from '../ops/shape.js';
import { Module } from './module.js';

/** max(x, 0). (PyTorch's `inplace=True` is a memory trick with no equivalent here.) */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Flattens dimensions from `startDim` on (a free reshape), as nn.Flatten (start_dim=1). */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }

  protected override extraRepr(): string {
    return `start_dim=${this.startDim}`;
  }
}

import type { Tensor } from '../autograd/tensor.js';
import { dropout } from '../ops/dropout.js';
import { drawSeed } from './init.js';
import { Module } from './module.js';

/**
 * Zeroes each element with probability p in training mode and scales the rest by 1/(1-p)
 * (nn.Dropout); the identity in eval mode. Its masks come from a seed drawn when the layer is
 * built and a step count, so a seeded run drops the same units every time.
 */
export class Dropout extends Module {
  private readonly seed = drawSeed();
  /** Masks drawn so far in training mode. Not a tensor, so not in the state dict: checkpoints keep it. */
  step = 0;

  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, seed: this.seed, step: this.training ? this.step++ : this.step });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

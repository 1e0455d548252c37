import { Tensor } from '../autograd/tensor.js';
import { bumpFrozenGeneration } from '../autograd/frozen-generation.js';
import { batchNorm2d } from '../ops/batchnorm.js';
import { getDefaultContext } from '../runtime/context.js';
import { constant_ } from './init.js';
import type { LayerOptions } from './linear.js';
import { Module } from './module.js';
import { Counter } from './state-dict.js';

export interface BatchNorm2dOptions extends LayerOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
}

/**
 * Batch normalisation over N, H, W per channel (nn.BatchNorm2d): weight 1, bias 0,
 * running_mean 0, running_var 1, and `num_batches_tracked`, a CPU counter saved as int64.
 *
 * In training mode it normalises with the batch's statistics and moves the running ones by
 * `momentum`; in eval mode it uses the running statistics. `statsFrozen` (set by models/freeze.ts
 * in its 'frozen-eval' mode) makes it behave as in eval mode whatever `training` says: the usual
 * choice for a frozen pretrained base, whose weights were fitted to those statistics.
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Counter;
  readonly eps: number;
  readonly momentum: number;
  private frozenStats = false;

  constructor(
    readonly numFeatures: number,
    options: BatchNorm2dOptions = {},
  ) {
    super();
    const ctx = options.ctx ?? getDefaultContext();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', constant_(Tensor.empty(ctx, [numFeatures]), 1)) : null;
    this.bias = affine ? this.registerParameter('bias', constant_(Tensor.empty(ctx, [numFeatures]), 0)) : null;
    this.runningMean = this.registerBuffer('running_mean', constant_(Tensor.empty(ctx, [numFeatures]), 0));
    this.runningVar = this.registerBuffer('running_var', constant_(Tensor.empty(ctx, [numFeatures]), 1));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', new Counter('num_batches_tracked'));
  }

  /** Normalise with the running statistics and leave them alone, even in training mode. */
  get statsFrozen(): boolean {
    return this.frozenStats;
  }

  set statsFrozen(value: boolean) {
    if (value !== this.frozenStats) bumpFrozenGeneration();
    this.frozenStats = value;
  }

  /** Whether the next forward uses (and updates) batch statistics. */
  get usesBatchStats(): boolean {
    return this.training && !this.statsFrozen;
  }

  forward(x: Tensor): Tensor {
    const training = this.usesBatchStats;
    if (training) this.numBatchesTracked.value++;
    return batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, { training, momentum: this.momentum, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight ? 'True' : 'False'}, track_running_stats=True`;
  }
}

import { Tensor } from '../autograd/tensor.js';
import { linear } from '../ops/matmul.js';
import { getDefaultContext, type GpuContext } from '../runtime/context.js';
import { fans, kaimingUniform_, uniform_ } from './init.js';
import { Module } from './module.js';

export interface LayerOptions {
  /** The GPU context to allocate in (the default context when omitted). */
  ctx?: GpuContext;
}

/**
 * y = x·Wᵀ + b, W of shape [out, in] (nn.Linear). PyTorch's default initialisation:
 * W ~ kaiming_uniform(a=√5) = U(±1/√in), b ~ U(±1/√in).
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions & { bias?: boolean } = {},
  ) {
    super();
    const ctx = options.ctx ?? getDefaultContext();
    this.weight = this.registerParameter('weight', Tensor.empty(ctx, [outFeatures, inFeatures]));
    this.bias = options.bias === false ? null : this.registerParameter('bias', Tensor.empty(ctx, [outFeatures]));
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}

/** nn.Linear's and nn.Conv2d's `reset_parameters`: both layers initialise the same way. */
export function resetLinearLike(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const bound = 1 / Math.sqrt(fans(weight.shape).fanIn);
    uniform_(bias, -bound, bound);
  }
}

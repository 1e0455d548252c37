import { Tensor } from '../autograd/tensor.js';
import { conv2d, conv2dRelu, type ConvOptions } from '../ops/conv.js';
import { getDefaultContext } from '../runtime/context.js';
import { resetLinearLike, type LayerOptions } from './linear.js';
import { Module } from './module.js';

export type Pair = number | readonly [number, number];

export interface Conv2dOptions extends LayerOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/**
 * 2-D convolution over NCHW input with an OIHW weight [out, in/groups, kh, kw] (nn.Conv2d).
 * Default initialisation as PyTorch's: kaiming_uniform(a=√5) weight, U(±1/√fan_in) bias.
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d(${inChannels}, ${outChannels}): channels must be divisible by groups=${this.groups}`);
    }
    const ctx = options.ctx ?? getDefaultContext();
    this.weight = this.registerParameter('weight', Tensor.empty(ctx, [outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.bias = options.bias === false ? null : this.registerParameter('bias', Tensor.empty(ctx, [outChannels]));
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, this.options());
  }

  /** relu(this.forward(x)) in one kernel (conv2dRelu): what Sequential runs for a Conv2d then a ReLU. */
  forwardRelu(x: Tensor): Tensor {
    return conv2dRelu(x, this.weight, this.bias ?? undefined, this.options());
  }

  private options(): ConvOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  protected override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(', ')})`, `stride=(${this.stride.join(', ')})`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=(${this.padding.join(', ')})`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=(${this.dilation.join(', ')})`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }
}

export function pair(value: Pair): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

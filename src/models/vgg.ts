/**
 * VGG as torchvision builds it (torchvision/models/vgg.py), with the same module names so that
 * torchvision's weights map one to one: `features` (convolutions, ReLUs, max-pools, numbered
 * 0, 1, 2...), `avgpool` (adaptive, to 7x7: any input size works), `classifier` (Linear 25088->4096,
 * ReLU, Dropout, Linear 4096->4096, ReLU, Dropout, Linear 4096->N). The head is `classifier.6`.
 */
import type { Tensor } from '../autograd/tensor.js';
import type { GpuContext } from '../runtime/context.js';
import { Flatten, ReLU } from '../nn/activation.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { constant_, kaimingNormal_, normal_, withSeed } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { chain, Sequential, type Sequenced } from '../nn/sequential.js';
import type { HasHead } from './head.js';

/** Output channels of each 3x3 convolution, 'M' for a 2x2 max-pool (torchvision's cfgs). */
export type VggConfig = readonly (number | 'M')[];

/** Configuration "D": 13 convolutions in 5 blocks. */
export const VGG16_CONFIG: VggConfig = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export interface ModelOptions {
  /** Classes of the head (1000 for ImageNet checkpoints). */
  numClasses?: number;
  /** Seeds the initialisation (see nn/init.ts); the current generator when omitted. */
  seed?: number;
  ctx?: GpuContext;
}

export interface VggOptions extends ModelOptions {
  /** A BatchNorm2d after every convolution (vgg16_bn). */
  batchNorm?: boolean;
  /** Dropout probability in the classifier (torchvision: 0.5). */
  dropout?: number;
}

export class VGG extends Module implements HasHead, Sequenced {
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly classifier: Sequential;
  readonly headPath: string;
  /** C,H,W order, as torchvision's torch.flatten(x, 1); not a child: torchvision's VGG has none. */
  private readonly flatten = new Flatten(1);

  constructor(features: Sequential, pooledSize: number, classifier: Sequential) {
    super();
    this.features = this.addModule('features', features);
    this.avgpool = this.addModule('avgpool', new AdaptiveAvgPool2d(pooledSize));
    this.classifier = this.addModule('classifier', classifier);
    this.headPath = `classifier.${classifier.length - 1}`;
    initVgg(this);
  }

  sequence(): readonly Module[] {
    return [...this.features.sequence(), this.avgpool, this.flatten, ...this.classifier.sequence()];
  }

  forward(x: Tensor): Tensor {
    return chain(x, this.sequence());
  }
}

/** torchvision's `make_layers`: conv 3x3 pad 1 (+ BatchNorm) + ReLU per number, max-pool per 'M'. */
export function vggFeatures(config: VggConfig, batchNorm: boolean, ctx?: GpuContext): Sequential {
  const layers: Module[] = [];
  let channels = 3;
  for (const item of config) {
    if (item === 'M') {
      layers.push(new MaxPool2d(2, { stride: 2 }));
      continue;
    }
    layers.push(new Conv2d(channels, item, 3, { padding: 1, ctx }));
    if (batchNorm) layers.push(new BatchNorm2d(item, { ctx }));
    layers.push(new ReLU());
    channels = item;
  }
  return new Sequential(...layers);
}

/**
 * torchvision's VGG `_initialize_weights`: convolutions kaiming_normal(fan_out, relu) with zero
 * bias, BatchNorm weight 1 and bias 0, linear layers N(0, 0.01) with zero bias.
 */
function initVgg(model: Module): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (m.bias) constant_(m.bias, 0);
    } else if (m instanceof BatchNorm2d) {
      if (m.weight) constant_(m.weight, 1);
      if (m.bias) constant_(m.bias, 0);
    } else if (m instanceof Linear) {
      normal_(m.weight, 0, 0.01);
      if (m.bias) constant_(m.bias, 0);
    }
  }
}

/** VGG16 (configuration D) with torchvision's names; `batchNorm` gives vgg16_bn. */
export function vgg16(options: VggOptions = {}): VGG {
  const { numClasses = 1000, batchNorm = false, dropout = 0.5, ctx } = options;
  return withSeed(options.seed, () => {
    const features = vggFeatures(VGG16_CONFIG, batchNorm, ctx);
    const classifier = new Sequential(
      new Linear(512 * 7 * 7, 4096, { ctx }),
      new ReLU(),
      new Dropout(dropout),
      new Linear(4096, 4096, { ctx }),
      new ReLU(),
      new Dropout(dropout),
      new Linear(4096, numClasses, { ctx }),
    );
    return new VGG(features, 7, classifier);
  });
}

export function vgg16_bn(options: Omit<VggOptions, 'batchNorm'> = {}): VGG {
  return vgg16({ ...options, batchNorm: true });
}

/** The embedded demo's network (src/demo): a small VGG narrow enough to train in minutes on a CPU adapter. */
export const DEMO_VGG = { widths: [16, 32, 64], hidden: 128 } as const;

export interface SmallVggOptions extends ModelOptions {
  /** Channels of the three conv blocks (two 3x3 convolutions each, then a 2x2 max-pool). */
  widths?: readonly number[];
  /** Width of the hidden linear layer. */
  hidden?: number;
  batchNorm?: boolean;
  /**
   * The adaptive average pool's output size before the classifier, as VGG16's 7x7: any input
   * size works, and for 32x32 inputs (4x4 after three pools) it changes nothing.
   */
  pooledSize?: number;
}

/**
 * A small VGG-style network for the demo and the benchmarks (trains in minutes on a software
 * adapter): per width, conv-ReLU-conv-ReLU-maxpool; then avgpool, flatten, Linear(hidden), ReLU,
 * Linear(numClasses). Same layout and names as VGG16 (`features`, `avgpool`, `classifier`), so
 * freezing, loading and saving work the same; the head is `classifier.2`.
 */
export function smallVgg(options: SmallVggOptions = {}): VGG {
  const { widths = [32, 64, 128], hidden = 256, numClasses = 10, batchNorm = false, pooledSize = 4, ctx } = options;
  const config = widths.flatMap((w) => [w, w, 'M' as const]);
  return withSeed(options.seed, () => {
    const features = vggFeatures(config, batchNorm, ctx);
    const last = widths[widths.length - 1]!;
    const classifier = new Sequential(new Linear(last * pooledSize * pooledSize, hidden, { ctx }), new ReLU(), new Linear(hidden, numClasses, { ctx }));
    return new VGG(features, pooledSize, classifier);
  });
}

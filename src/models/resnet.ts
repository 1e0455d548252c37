/**
 * ResNet-18 as torchvision builds it (torchvision/models/resnet.py), with the same names:
 * conv1 (7x7 stride 2), bn1, relu, maxpool (3x3 stride 2), layer1..layer4 of two BasicBlocks each
 * (the first block of layers 2-4 halves the resolution and doubles the channels, with a 1x1
 * `downsample` on the shortcut), avgpool (adaptive, to 1x1), fc. The head is `fc`.
 */
import type { Tensor } from '../autograd/tensor.js';
import { add } from '../ops/elementwise.js';
import type { GpuContext } from '../runtime/context.js';
import { Flatten, ReLU } from '../nn/activation.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { kaimingNormal_, withSeed } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { chain, Sequential, type Sequenced } from '../nn/sequential.js';
import type { HasHead } from './head.js';
import type { ModelOptions } from './vgg.js';

/** Two 3x3 convolutions with a shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride: number, ctx?: GpuContext) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, ctx }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(planes, { ctx }));
    this.relu = this.addModule('relu', new ReLU());
    this.conv2 = this.addModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, ctx }));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(planes, { ctx }));
    this.downsample =
      stride !== 1 || inPlanes !== planes
        ? this.addModule('downsample', new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false, ctx }), new BatchNorm2d(planes, { ctx })))
        : null;
  }

  forward(x: Tensor): Tensor {
    const shortcut = this.downsample ? this.downsample.forward(x) : x;
    const y = chain(x, [this.conv1, this.bn1, this.relu, this.conv2, this.bn2]);
    const sum = add(y, shortcut);
    y.dispose();
    if (shortcut !== x) shortcut.dispose();
    const out = this.relu.forward(sum);
    sum.dispose();
    return out;
  }
}

export class ResNet extends Module implements HasHead, Sequenced {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly maxpool: MaxPool2d;
  readonly layers: Sequential[];
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  readonly headPath = 'fc';
  /** Not a child: torchvision's ResNet calls torch.flatten in its forward. */
  private readonly flatten = new Flatten(1);

  /** `blocks[i]` BasicBlocks in layer i+1 (ResNet-18: [2, 2, 2, 2]). */
  constructor(blocks: readonly number[], numClasses: number, ctx?: GpuContext) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false, ctx }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(64, { ctx }));
    this.relu = this.addModule('relu', new ReLU());
    this.maxpool = this.addModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inPlanes = 64;
    this.layers = blocks.map((count, i) => {
      const planes = 64 * 2 ** i;
      const stride = i === 0 ? 1 : 2;
      const layer = new Sequential(...Array.from({ length: count }, (_, b) => new BasicBlock(b === 0 ? inPlanes : planes, planes, b === 0 ? stride : 1, ctx)));
      inPlanes = planes;
      return this.addModule(`layer${i + 1}`, layer);
    });
    this.avgpool = this.addModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.addModule('fc', new Linear(inPlanes, numClasses, { ctx }));
    // torchvision: convolutions kaiming_normal(fan_out, relu); BatchNorm 1 and 0 (its default);
    // fc keeps nn.Linear's default initialisation.
    for (const [, m] of this.namedModules()) if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
  }

  /** Block by block, so that the model can be split inside a layer (`layer4.1`). */
  sequence(): readonly Module[] {
    return [this.conv1, this.bn1, this.relu, this.maxpool, ...this.layers.flatMap((layer) => layer.sequence()), this.avgpool, this.flatten, this.fc];
  }

  forward(x: Tensor): Tensor {
    return chain(x, this.sequence());
  }
}

export function resnet18(options: ModelOptions = {}): ResNet {
  return withSeed(options.seed, () => new ResNet([2, 2, 2, 2], options.numClasses ?? 1000, options.ctx));
}

import type { Tensor } from '../autograd/tensor.js';
import { Module } from './module.js';
import { Conv2d } from './conv.js';
import { ReLU } from './activation.js';

/**
 * A model whose forward is `chain(x, model.sequence())`: its layers in order, so that it can also
 * run in two parts, up to a layer and on from it (train/feature-cache.ts keeps a frozen base's
 * outputs that way). The layers need not be registered children (VGG's flatten is not).
 */
export interface Sequenced {
  sequence(): readonly Module[];
}

/** The model's layers in order, if it gives them (`Sequenced`); null if its forward is its own. */
export function sequenceOf(model: Module): readonly Module[] | null {
  const sequence = (model as Partial<Sequenced>).sequence;
  return typeof sequence === 'function' ? sequence.call(model) : null;
}

/** Runs its children in order; they are named 0, 1, 2... as in torchvision (`features.24`). */
export class Sequential extends Module implements Sequenced {
  private readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.addModule(String(i), layer));
  }

  get length(): number {
    return this.layers.length;
  }

  at(index: number): Module {
    const layer = this.layers.at(index);
    if (!layer) throw new Error(`Sequential of ${this.layers.length} has no layer ${index}`);
    return layer;
  }

  sequence(): readonly Module[] {
    return this.layers;
  }

  forward(x: Tensor): Tensor {
    return chain(x, this.layers);
  }
}

/**
 * Runs `layers` one after the other, releasing each intermediate as soon as the next layer has
 * consumed it: what backward needs, each operation has saved for itself, so a frozen layer's
 * output does not outlive the layer after it. `x` itself is left to the caller.
 */
export function chain(x: Tensor, layers: Iterable<Module>): Tensor {
  const list = [...layers];
  let y = x;
  for (let i = 0; i < list.length; i++) {
    const layer = list[i]!;
    // A Conv2d followed by a ReLU (VGG's pattern) runs as one kernel that stores max(y, 0):
    // conv2dRelu, the same bits with one activation pass fewer. Exact classes only: a subclass
    // may have its own forward.
    const fused = layer.constructor === Conv2d && list[i + 1]?.constructor === ReLU;
    const next = fused ? (layer as Conv2d).forwardRelu(y) : layer.forward(y);
    if (fused) i++;
    if (y !== x && next !== y) y.dispose();
    y = next;
  }
  return y;
}

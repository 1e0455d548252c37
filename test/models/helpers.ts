// Small models and helpers shared by the model tests.
import type { Tensor } from '../../src/autograd/tensor.js';
import { Module } from '../../src/nn/module.js';
import { Linear } from '../../src/nn/linear.js';
import { Flatten, ReLU } from '../../src/nn/activation.js';
import { Sequential } from '../../src/nn/sequential.js';

/** A two-level model: names must compose as torchvision's do (`body.0.weight`, `head.bias`). */
export class Mlp extends Module {
  readonly body: Sequential;
  readonly head: Linear;
  readonly headPath = 'head';
  constructor(classes = 3) {
    super();
    this.body = this.addModule('body', new Sequential(new Flatten(), new Linear(8, 16), new ReLU(), new Linear(16, 16)));
    this.head = this.addModule('head', new Linear(16, classes));
  }
  forward(x: Tensor): Tensor {
    const h = this.body.forward(x);
    const y = this.head.forward(h);
    h.dispose();
    return y;
  }
}

export async function readAll(m: Module): Promise<Record<string, number[] | string>> {
  const out: Record<string, number[] | string> = {};
  for (const [k, v] of m.stateDict()) out[k] = typeof v === 'bigint' ? v.toString() : Array.from(await v.read());
  return out;
}

/** Whether two models hold bit-identical state (compared as bytes: VGG16 is 138M values). */
export async function sameState(a: Module, b: Module): Promise<string[]> {
  const differing: string[] = [];
  const other = b.stateDict();
  for (const [key, value] of a.stateDict()) {
    const theirs = other.get(key);
    if (typeof value === 'bigint' || typeof theirs === 'bigint' || theirs === undefined) {
      if (value !== theirs) differing.push(key);
      continue;
    }
    const x = await value.read();
    const y = await theirs.read();
    if (Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) !== 0) differing.push(key);
  }
  return differing;
}

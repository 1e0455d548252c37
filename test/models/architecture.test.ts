// The models' state dicts must be torchvision's, key for key and shape for shape, so that its
// weights load one to one. torchvision-keys/*.tsv are torchvision 0.14's state_dict() listings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { skipInit } from '../../src/nn/init.js';
import { Counter } from '../../src/nn/state-dict.js';
import type { Module } from '../../src/nn/module.js';
import { resnet18 } from '../../src/models/resnet.js';
import { smallVgg, vgg16, vgg16_bn } from '../../src/models/vgg.js';
import { headPathOf } from '../../src/models/head.js';
import type { Tensor } from '../../src/autograd/tensor.js';
import { sameState } from './helpers.js';

function listing(model: Module): string[] {
  return [...model.stateSlots()].map(([key, slot]) =>
    slot instanceof Counter ? `${key}\t[]\tint64` : `${key}\t[${slot.shape.join(', ')}]\tfloat32`,
  );
}

function torchvisionListing(arch: string): string[] {
  return readFileSync(new URL(`./torchvision-keys/${arch}.tsv`, import.meta.url), 'utf8').trim().split('\n');
}

describe("torchvision's architectures", () => {
  const builders: [string, () => Module][] = [
    ['vgg16', () => vgg16()],
    ['vgg16_bn', () => vgg16_bn()],
    ['resnet18', () => resnet18()],
  ];
  for (const [arch, build] of builders) {
    it(`${arch}: every state-dict key, shape and dtype, in order`, async () => {
      await testContext();
      const model = skipInit(build);
      expect(listing(model)).toEqual(torchvisionListing(arch));
      for (const [name, p] of model.namedParameters()) expect(p.name).toBe(name);
      model.dispose();
    });
  }

  it('puts a new head for N classes in place of the 1000-class one', async () => {
    await testContext();
    const vgg = skipInit(() => vgg16({ numClasses: 2 }));
    expect(headPathOf(vgg)).toBe('classifier.6');
    expect(vgg.stateSlots().get('classifier.6.weight')).toMatchObject({ shape: [2, 4096] });
    vgg.dispose();
    const resnet = skipInit(() => resnet18({ numClasses: 2 }));
    expect(headPathOf(resnet)).toBe('fc');
    expect(resnet.fc.weight.shape).toEqual([2, 512]);
    resnet.dispose();
  });

  it('counts 138,357,544 parameters in VGG16 and 11,689,512 in ResNet-18', async () => {
    await testContext();
    const count = (m: Module) => m.parameters().reduce((s, p) => s + p.size, 0);
    const vgg = skipInit(() => vgg16());
    expect(count(vgg)).toBe(138_357_544);
    vgg.dispose();
    const resnet = skipInit(() => resnet18());
    expect(count(resnet)).toBe(11_689_512);
    resnet.dispose();
  });

  it("initialises as torchvision's VGG: kaiming_normal(fan_out) convs, N(0, 0.01) linears, zero biases", async () => {
    await testContext();
    const model = smallVgg({ widths: [32, 64, 128], hidden: 256, numClasses: 2, seed: 1 });
    const std = async (key: string) => {
      const v = (await (model.stateDict().get(key) as Tensor).read()) as Float32Array;
      return Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    };
    // fan_out = out channels x 3 x 3; std = √(2 / fan_out). Tens of thousands of samples: ±2%.
    expect((await std('features.7.weight')) / Math.sqrt(2 / (64 * 9))).toBeCloseTo(1, 1);
    expect((await std('features.12.weight')) / Math.sqrt(2 / (128 * 9))).toBeCloseTo(1, 1);
    expect((await std('classifier.0.weight')) / 0.01).toBeCloseTo(1, 1);
    expect(await std('features.0.bias')).toBe(0);
    expect(await std('classifier.2.bias')).toBe(0);
    const again = smallVgg({ widths: [32, 64, 128], hidden: 256, numClasses: 2, seed: 1 });
    expect(await sameState(again, model)).toEqual([]);
    model.dispose();
    again.dispose();
  });

  it('builds the small VGG of the demo with the same layout', async () => {
    await testContext();
    const model = smallVgg({ widths: [32, 64, 128], hidden: 256, numClasses: 2 });
    expect(listing(model)).toEqual([
      'features.0.weight\t[32, 3, 3, 3]\tfloat32',
      'features.0.bias\t[32]\tfloat32',
      'features.2.weight\t[32, 32, 3, 3]\tfloat32',
      'features.2.bias\t[32]\tfloat32',
      'features.5.weight\t[64, 32, 3, 3]\tfloat32',
      'features.5.bias\t[64]\tfloat32',
      'features.7.weight\t[64, 64, 3, 3]\tfloat32',
      'features.7.bias\t[64]\tfloat32',
      'features.10.weight\t[128, 64, 3, 3]\tfloat32',
      'features.10.bias\t[128]\tfloat32',
      'features.12.weight\t[128, 128, 3, 3]\tfloat32',
      'features.12.bias\t[128]\tfloat32',
      'classifier.0.weight\t[256, 2048]\tfloat32',
      'classifier.0.bias\t[256]\tfloat32',
      'classifier.2.weight\t[2, 256]\tfloat32',
      'classifier.2.bias\t[2]\tfloat32',
    ]);
    expect(headPathOf(model)).toBe('classifier.2');
    model.dispose();
  });
});

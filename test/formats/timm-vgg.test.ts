// timm VGG names and shapes mapped onto torchvision's, lazily and without copying.

import { beforeAll, describe, expect, it } from 'vitest';
import { mapTimmVggToTorchvision, withTorchvisionVggNames } from '../../src/models/formats/timm-vgg.js';
import type { WeightEntry } from '../../src/models/formats/weight-file.js';
import { ensureWeightFixtures, expectTensors, openFixture, type ExpectedFile } from './fixtures.js';

let expected: Record<string, ExpectedFile>;
beforeAll(() => {
  expected = ensureWeightFixtures();
});

const f32 = (...shape: number[]): WeightEntry => ({ dtype: 'F32', shape, numel: shape.reduce((a, b) => a * b, 1) });

describe('timm VGG to torchvision names', () => {
  it('maps the real vgg16.tv_in1k classifier shapes', () => {
    const timm = new Map([
      ['features.28.weight', f32(512, 512, 3, 3)],
      ['pre_logits.fc1.weight', f32(4096, 512, 7, 7)],
      ['pre_logits.fc1.bias', f32(4096)],
      ['pre_logits.fc2.weight', f32(4096, 4096, 1, 1)],
      ['pre_logits.fc2.bias', f32(4096)],
      ['head.fc.weight', f32(1000, 4096)],
      ['head.fc.bias', f32(1000)],
    ]);
    expect(Object.fromEntries(mapTimmVggToTorchvision(timm)!)).toEqual({
      'pre_logits.fc1.weight': { name: 'classifier.0.weight', shape: [4096, 25088] },
      'pre_logits.fc1.bias': { name: 'classifier.0.bias', shape: [4096] },
      'pre_logits.fc2.weight': { name: 'classifier.3.weight', shape: [4096, 4096] },
      'pre_logits.fc2.bias': { name: 'classifier.3.bias', shape: [4096] },
      'head.fc.weight': { name: 'classifier.6.weight', shape: [1000, 4096] },
      'head.fc.bias': { name: 'classifier.6.bias', shape: [1000] },
    });
  });

  it('reads a timm file under torchvision names with the same values, flattened in C,H,W order', async () => {
    const file = withTorchvisionVggNames(await openFixture('timm_vgg.safetensors'));
    const timm = expected['timm_vgg.safetensors']!;
    const renamed = (from: string, shape: number[]) => ({ ...timm[from]!, shape });
    const torchvision: ExpectedFile = {
      'features.0.weight': timm['features.0.weight']!,
      'features.0.bias': timm['features.0.bias']!,
      'classifier.0.weight': renamed('pre_logits.fc1.weight', [6, 16]),
      'classifier.0.bias': timm['pre_logits.fc1.bias']!,
      'classifier.3.weight': renamed('pre_logits.fc2.weight', [5, 6]),
      'classifier.3.bias': timm['pre_logits.fc2.bias']!,
      'classifier.6.weight': timm['head.fc.weight']!,
      'classifier.6.bias': timm['head.fc.bias']!,
    };
    await expectTensors(file, torchvision);
    await expect(file.read('pre_logits.fc1.weight')).rejects.toThrow(/tensor "pre_logits\.fc1\.weight": no such tensor/);
    await file.close();
  });

  it('leaves torchvision files alone', async () => {
    const file = await openFixture('conv_bn_zip.pth');
    expect(mapTimmVggToTorchvision(file.entries)).toBeUndefined();
    expect(withTorchvisionVggNames(file)).toBe(file);
    await file.close();
  });

  it('refuses an fc2 that is not a 1x1 convolution', () => {
    const odd = new Map([
      ['pre_logits.fc1.weight', f32(8, 2, 2, 2)],
      ['pre_logits.fc2.weight', f32(8, 8, 3, 3)],
    ]);
    expect(() => mapTimmVggToTorchvision(odd, 'odd.safetensors')).toThrow(
      /odd\.safetensors: tensor "pre_logits\.fc2\.weight": expected a 1x1 kernel/,
    );
  });
});

// timm's VGG (e.g. `vgg16.tv_in1k`) keeps torchvision's `features.N.*` names but builds the first
// two classifier layers as convolutions: fc1 is a 7x7 conv over the 512x7x7 map, fc2 a 1x1 conv.
// Their weights are torchvision's linear weights reshaped (a 7x7 conv over a 7x7 input is the
// linear layer on the C,H,W-flattened map), so mapping them is a rename plus a reshape.

import { TensorLayoutError } from './errors.js';
import { remapWeights, type Rename, type WeightRemap } from './remap.js';
import type { WeightEntry, WeightFile } from './weight-file.js';

const TIMM_TO_TORCHVISION: readonly (readonly [string, string])[] = [
  ['pre_logits.fc1', 'classifier.0'],
  ['pre_logits.fc2', 'classifier.3'],
  ['head.fc', 'classifier.6'],
];

/** The renames that turn timm VGG names into torchvision's, or undefined if these are not timm's. */
export function mapTimmVggToTorchvision(
  entries: ReadonlyMap<string, WeightEntry>,
  file = 'weights',
): WeightRemap | undefined {
  if (!entries.has('pre_logits.fc1.weight')) return undefined;
  const remap = new Map<string, Rename>();
  for (const [timm, torchvision] of TIMM_TO_TORCHVISION) {
    for (const suffix of ['weight', 'bias']) {
      const stored = `${timm}.${suffix}`;
      const entry = entries.get(stored);
      if (!entry) continue;
      remap.set(stored, { name: `${torchvision}.${suffix}`, shape: linearShape(file, stored, entry.shape) });
    }
  }
  return remap;
}

/** Opens timm VGG weights under torchvision names; any other file is returned as it is. */
export function withTorchvisionVggNames(file: WeightFile): WeightFile {
  const remap = mapTimmVggToTorchvision(file.entries, file.name);
  return remap ? remapWeights(file, remap) : file;
}

/** [out, in, kh, kw] conv weight -> [out, in*kh*kw] linear weight; biases and 2-D weights as they are. */
function linearShape(file: string, name: string, shape: readonly number[]): readonly number[] {
  if (shape.length !== 4) return shape;
  const [out, inChannels, kh, kw] = shape as [number, number, number, number];
  if (name.startsWith('pre_logits.fc2') && (kh !== 1 || kw !== 1)) {
    throw new TensorLayoutError(file, name, `expected a 1x1 kernel, got [${shape}]`);
  }
  return [out, inChannels * kh * kw];
}

import type { Module } from '../nn/module.js';
import { resnet18 } from './resnet.js';
import { DEMO_VGG, smallVgg, vgg16, vgg16_bn, type ModelOptions } from './vgg.js';
import { InputError } from '../runtime/errors.js';

/** The architectures the CLI and `inspectWeights` know by name (torchvision's names). */
export const MODELS = {
  vgg16: (options: ModelOptions) => vgg16(options),
  vgg16_bn: (options: ModelOptions) => vgg16_bn(options),
  resnet18: (options: ModelOptions) => resnet18(options),
  small_vgg: (options: ModelOptions) => smallVgg(options),
  demo_vgg: (options: ModelOptions) => smallVgg({ ...DEMO_VGG, ...options }),
} as const satisfies Record<string, (options: ModelOptions) => Module>;

export type ModelName = keyof typeof MODELS;

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODELS, name);
}

export function createModel(name: string, options: ModelOptions = {}): Module {
  if (!isModelName(name)) throw new InputError(`unknown model '${name}': known models are ${Object.keys(MODELS).join(', ')}`);
  return MODELS[name](options);
}

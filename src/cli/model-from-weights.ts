import { COUNT, numberOption, UsageError, type ParsedArgs } from './command.js';
import { checkTransforms } from './augment-options.js';
import { createModel, isModelName, type ModelName } from '../models/registry.js';
import { loadWeightsFile } from '../models/node-weights.js';
import { openWeightsFile } from '../models/formats/node-file-source.js';
import { InputError } from '../runtime/errors.js';
import type { GpuContext } from '../runtime/context.js';
import type { Module } from '../nn/module.js';

export interface ModelFromWeights {
  model: Module;
  classes: string[];
  /** The validation transform's sizes the weights were trained with, where their metadata says. */
  imageSize?: number;
  resize?: number;
}

/**
 * A model for `eval` and `predict`, from what `train` writes into best.safetensors's metadata
 * (run-node.ts weightsMetadata): the architecture (else `--model`, else vgg16; a `--model` that
 * contradicts the file is refused), the class names (else `--classes`) and the image sizes.
 * Every tensor is loaded strictly.
 */
export async function modelFromWeights(ctx: GpuContext, weights: string, given: { model?: ModelName; classes?: string }): Promise<ModelFromWeights> {
  const file = await openWeightsFile(weights);
  const metadata = file.metadata;
  await file.close();
  const stored = metadata.model;
  if (stored !== undefined && !isModelName(stored)) throw new InputError(`${weights} was trained as '${stored}', which this version does not know`);
  if (given.model && stored && given.model !== stored) throw new InputError(`${weights} holds a ${stored} (its metadata says so), not a ${given.model}: drop --model or give --model ${stored}`);
  const modelName = given.model ?? stored ?? 'vgg16';
  const classes = given.classes ? given.classes.split(',') : metadata.classes ? (JSON.parse(metadata.classes) as string[]) : null;
  if (!classes) throw new UsageError(`${weights} does not record its class names: pass --classes a,b,...`);
  const model = createModel(modelName, { numClasses: classes.length, ctx });
  await loadWeightsFile(model, weights, { strict: true });
  model.eval();
  const size = (key: string) => (metadata[key] === undefined ? undefined : Number(metadata[key]));
  return { model, classes, imageSize: size('imageSize'), resize: size('resize') };
}

/** The validation transform's sizes: --image-size and --resize, else as the weights were trained, else 224 and 256. */
export function validationView(args: ParsedArgs, trained: Pick<ModelFromWeights, 'imageSize' | 'resize'>): { outputSize: number; resize: number } {
  const view = { outputSize: numberOption(args, 'image-size', trained.imageSize ?? 224, COUNT), resize: numberOption(args, 'resize', trained.resize ?? 256, COUNT) };
  checkTransforms(view);
  return view;
}

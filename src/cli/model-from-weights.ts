import { UsageError } from './command.js';
import { createModel, isModelName, MODELS } from '../models/registry.js';
import { loadWeightsFile } from '../models/node-weights.js';
import { openWeightsFile } from '../models/formats/node-file-source.js';
import type { GpuContext } from '../runtime/context.js';
import type { Module } from '../nn/module.js';

/**
 * A model for `eval` and `predict`: its class names from the weights' metadata (what `train`
 * writes into best.safetensors) or from --classes, and every tensor loaded strictly.
 */
export async function modelFromWeights(ctx: GpuContext, modelName: string, weights: string, classesOption?: string): Promise<{ model: Module; classes: string[] }> {
  if (!isModelName(modelName)) throw new UsageError(`--model must be one of ${Object.keys(MODELS).join(', ')}; got '${modelName}'`);
  const file = await openWeightsFile(weights);
  const stored = file.metadata.classes;
  await file.close();
  const classes = classesOption ? classesOption.split(',') : stored ? (JSON.parse(stored) as string[]) : null;
  if (!classes) throw new UsageError(`${weights} does not record its class names: pass --classes a,b,...`);
  const model = createModel(modelName, { numClasses: classes.length, ctx });
  await loadWeightsFile(model, weights, { strict: true });
  model.eval();
  return { model, classes };
}

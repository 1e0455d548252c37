// Node only: models and weight files on disk. Browser code opens a File with blobSource() and
// calls loadWeights / encodeModelSafetensors directly.
import type { Module } from '../nn/module.js';
import { writeChunksToFile } from './formats/node-file-sink.js';
import { openWeightsFile } from './formats/node-file-source.js';
import { inspectWeights, type WeightInspection } from './inspect.js';
import { loadWeights, type LoadWeightsOptions, type WeightsLoadReport } from './load-weights.js';
import { streamSafetensors } from './formats/safetensors-write.js';
import { encodeModelPth, stateDictToFetch } from './save-weights.js';

/** Opens `path` (safetensors or either .pth container), loads it into `model`, closes it. */
export async function loadWeightsFile(model: Module, path: string, options: LoadWeightsOptions = {}): Promise<WeightsLoadReport> {
  const file = await openWeightsFile(path);
  try {
    return await loadWeights(model, file, options);
  } finally {
    await file.close();
  }
}

/** Writes the model's state dict as safetensors under torchvision's names, one tensor read back at a time. */
export async function saveSafetensors(model: Module, path: string, metadata: Readonly<Record<string, string>> = {}): Promise<void> {
  await writeChunksToFile(path, streamSafetensors(stateDictToFetch(model), metadata, { transient: true }));
}

/** Writes the model's state dict as a PyTorch zip `.pth`, as `torch.save(model.state_dict())`. */
export async function savePth(model: Module, path: string): Promise<void> {
  await writeChunksToFile(path, await encodeModelPth(model));
}

export async function inspectWeightsFile(path: string, model?: Module | string): Promise<WeightInspection> {
  const file = await openWeightsFile(path);
  try {
    return inspectWeights(file, model);
  } finally {
    await file.close();
  }
}

/**
 * Checkpoints: one safetensors file holding the model's state dict (`model.<key>`), the
 * optimiser's state tensors (`optimizer.<param>.<buffer>`) and, as JSON metadata, everything
 * else a resumed run needs (position in the plan, optimiser steps and groups, scheduler, seed,
 * the run's options, each Dropout's step). Written atomically: a temporary file, flushed, then renamed over the old
 * one, so a `kill -9` at any moment leaves either the previous checkpoint or the new one.
 */
import { Tensor } from '../autograd/tensor.js';
import type { Module } from '../nn/module.js';
import { Dropout } from '../nn/dropout.js';
import type { StateValue } from '../nn/state-dict.js';
import { stateDictToFetch, tensorToFetch } from '../models/save-weights.js';
import { streamSafetensors } from '../models/formats/safetensors-write.js';
import { writeChunksToFile } from '../models/formats/node-file-sink.js';
import { openWeightsFile } from '../models/formats/node-file-source.js';
import type { TensorToFetch, TensorToWrite } from '../models/formats/tensor-to-write.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { SchedulerStateDict } from '../optim/schedulers.js';
import type { TrainerPosition } from './trainer.js';
import type { TrainOptimizer, TrainScheduler } from './optimizer.js';

const META_KEY = 'webgpu-transfer.checkpoint';
const FORMAT_VERSION = 1;

export interface CheckpointMeta<Options> {
  version: number;
  position: TrainerPosition;
  optimizer: { state: Record<number, { step: number }>; param_groups: OptimizerStateDict['param_groups'] } | null;
  scheduler: SchedulerStateDict | null;
  options: Options;
  /** Each Dropout's step by module path, so that a resumed run draws the masks it would have. */
  dropoutSteps?: Record<string, number>;
  savedAt: string;
}

function dropoutLayers(model: Module): [string, Dropout][] {
  return model.namedModules().filter((entry): entry is [string, Dropout] => entry[1] instanceof Dropout);
}

export async function saveCheckpoint<Options>(
  path: string,
  model: Module,
  state: { position: TrainerPosition; optimizer: TrainOptimizer | null; scheduler: TrainScheduler | null },
  options: Options,
): Promise<void> {
  // Every tensor is read back when the writer reaches it: the CPU holds one at a time, not the
  // whole checkpoint (VGG16 with momentum: 1 GiB).
  const tensors = new Map<string, TensorToWrite | TensorToFetch>();
  for (const [key, value] of stateDictToFetch(model)) tensors.set(`model.${key}`, value);
  let optimizerMeta: CheckpointMeta<Options>['optimizer'] = null;
  if (state.optimizer) {
    const { state: entries, param_groups } = state.optimizer.stateTensors();
    const steps: Record<number, { step: number }> = {};
    for (const { index, step, buffers } of entries) {
      steps[index] = { step };
      for (const [name, tensor] of Object.entries(buffers)) {
        tensors.set(`optimizer.${index}.${name}`, tensorToFetch(tensor, [tensor.size]));
      }
    }
    optimizerMeta = { state: steps, param_groups };
  }
  const meta: CheckpointMeta<Options> = {
    version: FORMAT_VERSION,
    position: state.position,
    optimizer: optimizerMeta,
    scheduler: state.scheduler?.stateDict() ?? null,
    options,
    dropoutSteps: Object.fromEntries(dropoutLayers(model).map(([path, layer]) => [path, layer.step])),
    savedAt: new Date().toISOString(),
  };
  const chunks = streamSafetensors(tensors, { [META_KEY]: JSON.stringify(meta) }, { transient: true });
  await writeChunksToFile(path, chunks, { sync: true });
}

export interface LoadedCheckpoint<Options> {
  meta: CheckpointMeta<Options>;
  /** Restores the optimiser and scheduler of the phase being resumed. */
  restore(optimizer: TrainOptimizer, scheduler: TrainScheduler): Promise<void>;
}

/** Loads the model weights from a checkpoint and returns the rest for the trainer to resume. */
export async function loadCheckpoint<Options>(path: string, model: Module): Promise<LoadedCheckpoint<Options>> {
  const file = await openWeightsFile(path);
  try {
    const raw = file.metadata[META_KEY];
    if (!raw) throw new Error(`${path}: not a webgpu-transfer checkpoint (no '${META_KEY}' metadata)`);
    const meta = JSON.parse(raw) as CheckpointMeta<Options>;
    if (meta.version !== FORMAT_VERSION) throw new Error(`${path}: checkpoint format ${meta.version}, this version reads ${FORMAT_VERSION}`);
    const ctx = model.parameters()[0]!.ctx;
    const dict = new Map<string, StateValue>();
    const optimizerBuffers = new Map<string, Float32Array>();
    try {
      for (const [name, entry] of file.entries) {
        if (name.startsWith('model.')) {
          const key = name.slice('model.'.length);
          if (entry.dtype === 'I64') dict.set(key, (await file.readRaw(name))[0] as bigint);
          else dict.set(key, Tensor.fromData(ctx, await file.read(name), entry.shape, 'float32', key));
        } else if (name.startsWith('optimizer.')) {
          optimizerBuffers.set(name.slice('optimizer.'.length), await file.read(name));
        }
      }
      model.loadStateDict(dict, { strict: true });
      for (const [path, layer] of dropoutLayers(model)) layer.step = meta.dropoutSteps?.[path] ?? 0;
    } finally {
      for (const value of dict.values()) if (value instanceof Tensor) value.dispose();
    }
    return {
      meta,
      async restore(optimizer, scheduler) {
        if (meta.optimizer) {
          const state: OptimizerStateDict['state'] = {};
          for (const [index, { step }] of Object.entries(meta.optimizer.state)) state[Number(index)] = { step };
          for (const [key, values] of optimizerBuffers) {
            const dot = key.indexOf('.');
            const entry = state[Number(key.slice(0, dot))];
            if (entry) entry[key.slice(dot + 1)] = values;
          }
          optimizer.loadStateDict({ state, param_groups: meta.optimizer.param_groups });
        }
        if (meta.scheduler) scheduler.loadStateDict(meta.scheduler);
      },
    };
  } finally {
    await file.close();
  }
}

/**
 * A model's state dict as the weight-file writers take it: torchvision's keys, float32 tensors
 * read back from the GPU, and BatchNorm's counters as int64 scalars, so that PyTorch's own
 * model loads the file with `load_state_dict(strict=True)`. Written whole (`stateDictToWrite`),
 * the CPU holds one copy of the model while the file is written (the writers reference the
 * tensors' bytes, they do not copy them); streamed (`stateDictToFetch`), one tensor at a time.
 */
import type { MappedData, Tensor } from '../autograd/tensor.js';
import type { Module } from '../nn/module.js';
import { Counter } from '../nn/state-dict.js';
import { encodePytorchZip } from './formats/pth-write.js';
import { encodeSafetensors } from './formats/safetensors-write.js';
import type { TensorToFetch, TensorToWrite } from './formats/tensor-to-write.js';

/** The state dict with every tensor still on the GPU, read back when a streaming writer reaches it. */
export function stateDictToFetch(model: Module): Map<string, TensorToWrite | TensorToFetch> {
  const out = new Map<string, TensorToWrite | TensorToFetch>();
  for (const [key, slot] of model.stateSlots()) {
    out.set(
      key,
      slot instanceof Counter
        ? { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(slot.value)) }
        : tensorToFetch(slot),
    );
  }
  return out;
}

/** A float32 tensor on the GPU as a streaming writer takes it: read back, or lent in place, when reached. */
export function tensorToFetch(tensor: Tensor, shape: readonly number[] = tensor.shape): TensorToFetch {
  return {
    dtype: 'F32',
    shape,
    fetch: async () => (await tensor.read()) as Float32Array,
    fetchLent: () => tensor.readMapped() as Promise<MappedData<Float32Array>>,
  };
}

export async function stateDictToWrite(model: Module): Promise<Map<string, TensorToWrite>> {
  const out = new Map<string, TensorToWrite>();
  for (const [key, tensor] of stateDictToFetch(model)) out.set(key, 'fetch' in tensor ? { ...tensor, data: await tensor.fetch() } : tensor);
  return out;
}

/** The model as a safetensors file, in chunks for streaming to disk or a download. */
export async function encodeModelSafetensors(model: Module, metadata: Readonly<Record<string, string>> = {}): Promise<Uint8Array[]> {
  return encodeSafetensors(await stateDictToWrite(model), metadata);
}

/** The model as a PyTorch zip `.pth` (what `torch.save(model.state_dict(), path)` writes). */
export async function encodeModelPth(model: Module): Promise<Uint8Array[]> {
  return encodePytorchZip(await stateDictToWrite(model));
}

// Writes safetensors: the JSON header padded with spaces to a multiple of 8 bytes, then the
// tensors back to back. Data is laid out widest dtype first so every tensor stays aligned to its
// element size for readers that map the file instead of copying it.

import { dtypeBytes, type DType } from './dtype.js';
import { bytesToWrite, concatBytes, type TensorToFetch, type TensorToWrite } from './tensor-to-write.js';
import { numelOf } from './tensor-view.js';

const OUTPUT = 'safetensors output';

/** The file as chunks (header, then each tensor's bytes viewed in place), for streaming to disk. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array[] {
  const { head, order } = layout(tensors, metadata);
  return [head, ...order.map((name) => bytesToWrite(OUTPUT, name, tensors.get(name)!))];
}

export interface StreamOptions {
  /**
   * The consumer is done with each chunk before it asks for the next (writeChunksToFile is): a
   * tensor that lends its data (TensorToFetch.fetchLent) is then yielded in place and released at
   * the next request, instead of copied. A VGG16 checkpoint's largest tensor is 392 MiB, whose
   * copy takes 0.25 s on lavapipe. Default false: every chunk stays valid.
   */
  transient?: boolean;
}

/**
 * The same file, its tensors fetched one at a time as the chunks are consumed: the header needs
 * only their dtypes and shapes. For a file the CPU should not hold whole (a checkpoint of VGG16
 * with its momentum is 1 GiB).
 */
export async function* streamSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite | TensorToFetch>,
  metadata: Readonly<Record<string, string>> = {},
  options: StreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const { head, order } = layout(tensors, metadata);
  yield head;
  for (const name of order) {
    const tensor = tensors.get(name)!;
    if (!('fetch' in tensor)) {
      yield bytesToWrite(OUTPUT, name, tensor);
    } else if (options.transient && tensor.fetchLent) {
      const lent = await tensor.fetchLent();
      try {
        yield bytesToWrite(OUTPUT, name, { ...tensor, data: lent.data });
      } finally {
        lent.release(); // the consumer asked for the next chunk, or stopped
      }
    } else {
      yield bytesToWrite(OUTPUT, name, { ...tensor, data: await tensor.fetch() });
    }
  }
}

/** The header, and the order the tensors' data follows it in (widest dtype first). */
function layout(tensors: ReadonlyMap<string, { dtype: DType; shape: readonly number[] }>, metadata: Readonly<Record<string, string>>): { head: Uint8Array; order: string[] } {
  const order = [...tensors.keys()].sort((a, b) => dtypeBytes(tensors.get(b)!.dtype) - dtypeBytes(tensors.get(a)!.dtype));
  const offsets = new Map<string, [number, number]>();
  let end = 0;
  for (const name of order) {
    const { dtype, shape } = tensors.get(name)!;
    const bytes = numelOf(shape) * dtypeBytes(dtype);
    offsets.set(name, [end, end + bytes]);
    end += bytes;
  }
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  for (const [name, tensor] of tensors) {
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: offsets.get(name) };
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const paddedLength = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + paddedLength).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(paddedLength), true);
  head.set(json, 8);
  return { head, order };
}

export function writeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  return concatBytes(encodeSafetensors(tensors, metadata));
}

// Writes safetensors: the JSON header padded with spaces to a multiple of 8 bytes, then the
// tensors back to back. Data is laid out widest dtype first so every tensor stays aligned to its
// element size for readers that map the file instead of copying it.

import { dtypeBytes } from './dtype.js';
import { bytesToWrite, concatBytes, type TensorToWrite } from './tensor-to-write.js';

const OUTPUT = 'safetensors output';

/** The file as chunks (header, then each tensor's bytes viewed in place), for streaming to disk. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array[] {
  const byWidth = [...tensors].sort(([, a], [, b]) => dtypeBytes(b.dtype) - dtypeBytes(a.dtype));
  const data: Uint8Array[] = [];
  const offsets = new Map<string, [number, number]>();
  let end = 0;
  for (const [name, tensor] of byWidth) {
    const bytes = bytesToWrite(OUTPUT, name, tensor);
    offsets.set(name, [end, end + bytes.byteLength]);
    data.push(bytes);
    end += bytes.byteLength;
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
  return [head, ...data];
}

export function writeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  return concatBytes(encodeSafetensors(tensors, metadata));
}

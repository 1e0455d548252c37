// What the writers take: a tensor's dtype, shape and row-major little-endian data.

import { dtypeBytes, rawBytes, type DType, type RawTensorData } from './dtype.js';
import { TensorLayoutError } from './errors.js';
import { numelOf } from './tensor-view.js';

export interface TensorToWrite {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** F16/BF16 as raw 16-bit patterns, I64 as BigInt64Array. */
  readonly data: RawTensorData;
}

/**
 * A tensor whose data is fetched when a streaming writer reaches it (a GPU readback), so that the
 * writer holds one tensor's bytes at a time rather than the whole file's.
 */
export interface TensorToFetch {
  readonly dtype: DType;
  readonly shape: readonly number[];
  fetch(): Promise<RawTensorData>;
  /**
   * The data lent in place, valid until `release()` (a GPU staging buffer's mapping): what a
   * writer whose chunks are transient (streamSafetensors' `transient`) takes instead of a copy.
   */
  fetchLent?(): Promise<{ data: RawTensorData; release(): void }>;
}

/** The tensor's bytes, viewed in place, after checking they match dtype and shape. */
export function bytesToWrite(output: string, name: string, tensor: TensorToWrite): Uint8Array {
  const expected = numelOf(tensor.shape) * dtypeBytes(tensor.dtype);
  if (tensor.data.byteLength !== expected) {
    throw new TensorLayoutError(output, name, `${tensor.dtype}[${tensor.shape}] needs ${expected} bytes, got ${tensor.data.byteLength}`);
  }
  return rawBytes(tensor.data);
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

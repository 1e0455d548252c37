// The lazy view of a weight file every format opens to: names, dtypes and shapes up front,
// tensor bytes read one tensor at a time on request, so a 553 MB VGG16 never sits in memory
// whole next to its GPU copy.

import type { ByteSource } from './byte-source.js';
import { dtypeBytes, toFloat32, viewRaw, type DType, type RawTensorData } from './dtype.js';
import { MissingTensorError } from './errors.js';
import { gather, isContiguous, viewSpan } from './tensor-view.js';

export type WeightFormat = 'safetensors' | 'pytorch-zip' | 'pytorch-legacy';

export interface WeightEntry {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly numel: number;
}

export interface WeightFile {
  readonly format: WeightFormat;
  readonly name: string;
  /** In file order (safetensors: sorted by offset; PyTorch: state-dict order). */
  readonly entries: ReadonlyMap<string, WeightEntry>;
  /** safetensors' `__metadata__` string pairs; empty for other formats. */
  readonly metadata: Readonly<Record<string, string>>;
  /** A fresh contiguous float32 copy the caller owns; other dtypes are widened. */
  read(name: string): Promise<Float32Array>;
  /** The stored element type, contiguous: I64 as BigInt64Array, F16/BF16 as raw Uint16Array. */
  readRaw(name: string): Promise<RawTensorData>;
  close(): Promise<void>;
}

/** Where a tensor's elements lie: a strided view into one storage's bytes in the file. */
export interface TensorLocation extends WeightEntry {
  /** File offset of the storage's first byte. */
  readonly storageStart: number;
  /** Element [0, ..., 0] relative to storageStart, in elements. */
  readonly offset: number;
  readonly stride: readonly number[];
}

/** Shared by every format: once located, a tensor is read the same way. */
export class LocatedWeightFile implements WeightFile {
  readonly name: string;

  constructor(
    readonly format: WeightFormat,
    private readonly source: ByteSource,
    readonly entries: ReadonlyMap<string, TensorLocation>,
    readonly metadata: Readonly<Record<string, string>> = {},
  ) {
    this.name = source.name;
  }

  async read(name: string): Promise<Float32Array> {
    const location = this.locate(name);
    return toFloat32(location.dtype, await this.readRaw(name));
  }

  async readRaw(name: string): Promise<RawTensorData> {
    const location = this.locate(name);
    const itemBytes = dtypeBytes(location.dtype);
    const span = viewSpan(location);
    const bytes = await this.source.read(location.storageStart + span.first * itemBytes, span.count * itemBytes);
    const raw = viewRaw(location.dtype, bytes);
    return isContiguous(location) ? raw : gather(raw, location, span.first);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  private locate(name: string): TensorLocation {
    const location = this.entries.get(name);
    if (!location) throw new MissingTensorError(this.name, name);
    return location;
  }
}

// Strided views, as PyTorch stores them: element i0..in-1 lives at
// offset + sum(ik * stride[k]) in the storage. Slices, transposes and expands all save the whole
// storage plus such a view, so a reader must honour offset and stride, and gather when needed.

import { allocateRaw, type DType, type RawTensorData } from './dtype.js';

export interface StridedView {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset: number;
  readonly numel: number;
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let dim = shape.length - 1; dim >= 0; dim--) {
    strides[dim] = step;
    step *= shape[dim]!;
  }
  return strides;
}

/** Row-major with no gaps; dimensions of size 1 may carry any stride. */
export function isContiguous({ shape, stride }: StridedView): boolean {
  let expected = 1;
  for (let dim = shape.length - 1; dim >= 0; dim--) {
    if (shape[dim] === 1) continue;
    if (stride[dim] !== expected) return false;
    expected *= shape[dim]!;
  }
  return true;
}

/** The range of storage elements [first, first + count) that a view touches. */
export function viewSpan(view: StridedView): { first: number; count: number } {
  if (view.numel === 0) return { first: view.offset, count: 0 };
  const last = view.shape.reduce((sum, size, dim) => sum + (size - 1) * view.stride[dim]!, view.offset);
  return { first: view.offset, count: last - view.offset + 1 };
}

/** Copies a strided view out of `span` (storage elements starting at `spanFirst`) into row-major order. */
export function gather(span: RawTensorData, view: StridedView, spanFirst: number): RawTensorData {
  const { shape, stride } = view;
  const out = allocateRaw(view.dtype, view.numel);
  const source = span as unknown as ArrayLike<number> & { [i: number]: number };
  const target = out as unknown as { [i: number]: number };
  const rank = shape.length;
  if (view.numel === 0) return out;
  if (rank === 0) {
    target[0] = source[view.offset - spanFirst]!;
    return out;
  }
  // Odometer over all but the last dimension; the last one is a simple strided run.
  const index = new Array<number>(rank).fill(0);
  const rowLength = shape[rank - 1]!;
  const rowStride = stride[rank - 1]!;
  let start = view.offset - spanFirst;
  for (let written = 0; written < view.numel; ) {
    for (let i = 0, at = start; i < rowLength; i++, at += rowStride) target[written++] = source[at]!;
    for (let dim = rank - 2; dim >= 0; dim--) {
      index[dim]!++;
      start += stride[dim]!;
      if (index[dim]! < shape[dim]!) break;
      start -= index[dim]! * stride[dim]!;
      index[dim] = 0;
    }
  }
  return out;
}

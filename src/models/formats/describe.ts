// A table of what a weight file holds, for `webgpu-transfer inspect` and for error reports.

import { dtypeBytes, type DType } from './dtype.js';
import type { WeightFile, WeightFormat } from './weight-file.js';

export interface WeightRow {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly numel: number;
  readonly bytes: number;
}

export interface WeightTotals {
  readonly tensors: number;
  readonly numel: number;
  readonly bytes: number;
}

export interface WeightDescription {
  readonly file: string;
  readonly format: WeightFormat;
  readonly rows: readonly WeightRow[];
  readonly totals: WeightTotals;
  /** VGG16 is all F32 but for BatchNorm's int64 counters: this shows such mixes at a glance. */
  readonly totalsByDtype: ReadonlyMap<DType, WeightTotals>;
}

export function describeWeights(file: WeightFile): WeightDescription {
  const rows = [...file.entries].map(([name, { dtype, shape, numel }]) => ({
    name,
    shape,
    dtype,
    numel,
    bytes: numel * dtypeBytes(dtype),
  }));
  const byDtype = new Map<DType, WeightTotals>();
  for (const row of rows) byDtype.set(row.dtype, add(byDtype.get(row.dtype), row));
  return {
    file: file.name,
    format: file.format,
    rows,
    totals: rows.reduce<WeightTotals>((sum, row) => add(sum, row), { tensors: 0, numel: 0, bytes: 0 }),
    totalsByDtype: byDtype,
  };
}

function add(totals: WeightTotals | undefined, row: WeightRow): WeightTotals {
  return {
    tensors: (totals?.tensors ?? 0) + 1,
    numel: (totals?.numel ?? 0) + row.numel,
    bytes: (totals?.bytes ?? 0) + row.bytes,
  };
}

import { Tensor } from '../autograd/tensor.js';
import { groupsFor1d, launch, rowChunks } from './launch.js';
import { WORKGROUP_1D, entry1d, gridStride, linearIndex } from './wgsl.js';

/**
 * Rows of a table picked by index, both ways: `gather` copies the rows `indices` names into a
 * batch (batch[b] = table[indices[b]]) and `scatter` writes a batch's rows into them
 * (table[indices[b]] = batch[b]). The training feature cache (train/sample-feature-cache.ts)
 * keeps one row per training sample and assembles each shuffled batch from it.
 *
 * A table larger than one binding (VGG16's 4096 features for 20,000 images are 312 MiB; lavapipe
 * binds 128 MiB) is bound a slice at a time, one dispatch per slice: each moves the batch rows
 * whose index falls in its slice, so together they move every row once.
 */
type Direction = 'gather' | 'scatter';

const sources = {
  gather: rowCopySource('gather'),
  scatter: rowCopySource('scatter'),
};

function rowCopySource(direction: Direction) {
  const [tableAccess, batchAccess] = direction === 'gather' ? ['read', 'read_write'] : ['read_write', 'read'];
  const copy = direction === 'gather' ? 'batch[i] = table[at];' : 'table[at] = batch[i];';
  return {
    name: `rows.${direction}`,
    code: /* wgsl */ `
// Element i of the batch is element e of batch row b, whose table row is indices[b]; this
// dispatch binds table rows row0 .. row0 + rows - 1 and moves only the elements in them.
struct Params { size: u32, row_length: u32, row0: u32, rows: u32 }
@group(0) @binding(0) var<storage, read> indices: array<i32>;
@group(0) @binding(1) var<storage, ${tableAccess}> table: array<f32>;
@group(0) @binding(2) var<storage, ${batchAccess}> batch: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearIndex}
${gridStride}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.size; i += grid_stride(groups)) {
    let row = u32(indices[i / p.row_length]) - p.row0;  // wraps around below row0: also skipped
    if (row >= p.rows) { continue; }
    let at = row * p.row_length + i % p.row_length;
    ${copy}
  }
}`,
  };
}

/** Launches one direction over every slice of the table. `indices`: int32 [B]; `batch`: [B, ...row]. */
function moveRows(direction: Direction, table: Tensor, indices: Tensor, batch: Tensor): void {
  const ctx = table.ctx;
  const rowLength = table.size / table.shape[0]!;
  for (const { row0, rows } of rowChunks(ctx, table.shape[0]!, [rowLength])) {
    launch(ctx, sources[direction], {
      buffers: { indices, table: { tensor: table, offset: row0 * rowLength, count: rows * rowLength }, batch },
      uniforms: { size: batch.size, row_length: rowLength, row0, rows },
      workgroups: groupsFor1d(ctx, batch.size, WORKGROUP_1D),
    });
  }
}

/** batch[b] = table[indices[b]]: a new [B, ...row] tensor. */
export function gatherRows(table: Tensor, indices: Tensor): Tensor {
  checkIndices(table, indices);
  const batch = Tensor.empty(table.ctx, [indices.size, ...table.shape.slice(1)], 'float32', 'gathered rows');
  if (batch.size > 0) moveRows('gather', table, indices, batch);
  return batch;
}

/** table[indices[b]] = batch[b], in place. The indices must differ (a row written twice is either). */
export function scatterRows(table: Tensor, indices: Tensor, batch: Tensor): void {
  checkIndices(table, indices);
  const row = table.shape.slice(1);
  if (batch.shape.length !== row.length + 1 || batch.shape[0] !== indices.size || row.some((d, i) => batch.shape[i + 1] !== d)) {
    throw new Error(`scatterRows: a batch of ${indices.size} rows of [${row.join(', ')}] goes into this table; got [${batch.shape.join(', ')}]`);
  }
  if (batch.size > 0) moveRows('scatter', table, indices, batch);
}

function checkIndices(table: Tensor, indices: Tensor): void {
  if (indices.dtype !== 'int32' || indices.ndim !== 1) throw new Error(`row indices must be a 1-D int32 tensor; got ${indices.dtype} [${indices.shape.join(', ')}]`);
  if (table.dtype !== 'float32' || table.ndim < 2) throw new Error(`the row table must be a float32 tensor of rows; got ${table.dtype} [${table.shape.join(', ')}]`);
}

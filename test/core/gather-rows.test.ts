import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { GpuContext, Tensor, createNodeGpu, tensor } from '../../src/node.js';
import { gatherRows, scatterRows } from '../../src/kernels/gather-rows.js';
import { gcd } from '../../src/kernels/launch.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

const ROWS = 40;
const ROW = [3, 5]; // 15 numbers per row
const rowLength = 15;
const tableOf = (rows: number) => Array.from({ length: rows * rowLength }, (_, i) => i * 0.5 - 7);
const tableValues = tableOf(ROWS);
const indices = [37, 0, 12, 39, 5, 21, 13];

/** What gather must give, row by row, computed here. */
const expectedRows = (values: readonly number[], picked: readonly number[]) => picked.flatMap((r) => values.slice(r * rowLength, (r + 1) * rowLength));

async function gatherOn(context: GpuContext, values = tableValues, picked = indices): Promise<{ values: number[]; dispatches: number | undefined }> {
  context.recorder.resetStats();
  const table = tensor(values, [values.length / rowLength, ...ROW], { ctx: context });
  const batch = gatherRows(table, Tensor.fromData(context, picked, [picked.length], 'int32'));
  expect(batch.shape).toEqual([picked.length, ...ROW]);
  const gathered = Array.from(await batch.read());
  return { values: gathered, dispatches: context.recorder.stats.perKernel.get('rows.gather') };
}

describe('gatherRows and scatterRows (kernels/gather-rows.ts)', () => {
  it('gathers the named rows, in the batch order', async () => {
    const { values, dispatches } = await gatherOn(ctx);
    expect(dispatches).toBe(1);
    expect(values).toEqual(expectedRows(tableValues, indices));
  });

  it('scatters a batch into the named rows and leaves the others as they were', async () => {
    const table = tensor(tableValues, [ROWS, ...ROW], { ctx });
    const batchValues = Array.from({ length: indices.length * rowLength }, (_, i) => 1000 + i);
    scatterRows(table, Tensor.fromData(ctx, indices, [indices.length], 'int32'), tensor(batchValues, [indices.length, ...ROW], { ctx }));
    const expected = [...tableValues];
    indices.forEach((r, b) => expected.splice(r * rowLength, rowLength, ...batchValues.slice(b * rowLength, (b + 1) * rowLength)));
    expect(Array.from(await table.read())).toEqual(expected);
  });

  it('binds a table larger than one binding a slice at a time, with the same result', async () => {
    // A slice must start at an offset the adapter can bind (minStorageBufferOffsetAlignment: 16
    // bytes on lavapipe, 256 on SwiftShader), so it holds a multiple of `aligned` rows of 60
    // bytes: 4 on lavapipe, 64 on SwiftShader. Bindings of 4 such groups, a table of 2.5 of them.
    const alignment = ctx.limits.minStorageBufferOffsetAlignment / 4;
    const aligned = alignment / gcd(alignment, rowLength);
    const sliceRows = 4 * aligned;
    const rows = 2 * sliceRows + sliceRows / 2;
    const values = tableOf(rows);
    const picked = [rows - 3, 0, sliceRows - 4, rows - 1, 5, sliceRows + 5, 2 * sliceRows + 1];
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: sliceRows * rowLength * 4 });
    const { values: gathered, dispatches } = await gatherOn(small, values, picked);
    expect(dispatches).toBe(3);
    expect(gathered).toEqual(expectedRows(values, picked));

    const table = tensor(values, [rows, ...ROW], { ctx: small });
    const batch = tensor(expectedRows(values, picked).map((v) => -v), [picked.length, ...ROW], { ctx: small });
    scatterRows(table, Tensor.fromData(small, picked, [picked.length], 'int32'), batch);
    const written = Array.from(await table.read());
    for (let r = 0; r < rows; r++) {
      const row = written.slice(r * rowLength, (r + 1) * rowLength);
      const original = values.slice(r * rowLength, (r + 1) * rowLength);
      expect(row).toEqual(picked.includes(r) ? original.map((v) => -v) : original);
    }
    small.destroy();
  });

  it('refuses indices that are not int32, and a batch of the wrong shape', () => {
    const table = tensor(tableValues, [ROWS, ...ROW], { ctx });
    expect(() => gatherRows(table, tensor([1, 2], [2], { ctx }))).toThrow(/1-D int32/);
    const picks = Tensor.fromData(ctx, [1, 2], [2], 'int32');
    expect(() => scatterRows(table, picks, tensor(new Array(2 * 14).fill(0), [2, 14], { ctx }))).toThrow(/a batch of 2 rows of \[3, 5\]/);
  });
});

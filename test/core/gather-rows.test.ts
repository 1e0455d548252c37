import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { GpuContext, Tensor, createNodeGpu, tensor } from '../../src/node.js';
import { gatherRows, scatterRows } from '../../src/kernels/gather-rows.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

const ROWS = 40;
const ROW = [3, 5]; // 15 numbers per row
const rowLength = 15;
const tableValues = Array.from({ length: ROWS * rowLength }, (_, i) => i * 0.5 - 7);
const indices = [37, 0, 12, 39, 5, 21, 13];

/** What gather must give, row by row, computed here. */
const expectedRows = (values: readonly number[], picked: readonly number[]) => picked.flatMap((r) => values.slice(r * rowLength, (r + 1) * rowLength));

async function gatherOn(context: GpuContext): Promise<{ values: number[]; dispatches: number | undefined }> {
  context.recorder.resetStats();
  const table = tensor(tableValues, [ROWS, ...ROW], { ctx: context });
  const batch = gatherRows(table, Tensor.fromData(context, indices, [indices.length], 'int32'));
  expect(batch.shape).toEqual([indices.length, ...ROW]);
  const values = Array.from(await batch.read());
  return { values, dispatches: context.recorder.stats.perKernel.get('rows.gather') };
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
    // 2400 bytes of table in slices of 1 KiB: rows 0-15, 16-31, 32-39 (rows of 60 bytes, 256-byte aligned starts).
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 1024 });
    const { values, dispatches } = await gatherOn(small);
    expect(dispatches).toBe(3);
    expect(values).toEqual(expectedRows(tableValues, indices));

    const table = tensor(tableValues, [ROWS, ...ROW], { ctx: small });
    const batch = tensor(expectedRows(tableValues, indices).map((v) => -v), [indices.length, ...ROW], { ctx: small });
    scatterRows(table, Tensor.fromData(small, indices, [indices.length], 'int32'), batch);
    const written = Array.from(await table.read());
    for (let r = 0; r < ROWS; r++) {
      const row = written.slice(r * rowLength, (r + 1) * rowLength);
      const original = tableValues.slice(r * rowLength, (r + 1) * rowLength);
      expect(row).toEqual(indices.includes(r) ? original.map((v) => -v) : original);
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

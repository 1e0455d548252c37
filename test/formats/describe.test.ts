import { beforeAll, expect, it } from 'vitest';
import { describeWeights } from '../../src/models/formats/describe.js';
import { ensureWeightFixtures, openFixture } from './fixtures.js';

beforeAll(() => {
  ensureWeightFixtures();
});

it('lists each tensor with its bytes, and totals overall and by dtype', async () => {
  const file = await openFixture('conv_bn_legacy.pth');
  const description = describeWeights(file);
  await file.close();
  expect(description.format).toBe('pytorch-legacy');
  expect(description.rows.slice(0, 2)).toEqual([
    { name: '0.weight', shape: [4, 3, 3, 3], dtype: 'F32', numel: 108, bytes: 432 },
    { name: '0.bias', shape: [4], dtype: 'F32', numel: 4, bytes: 16 },
  ]);
  expect(description.rows.find((row) => row.name === '1.num_batches_tracked')).toEqual({
    name: '1.num_batches_tracked',
    shape: [],
    dtype: 'I64',
    numel: 1,
    bytes: 8,
  });
  // conv 108+4, batch norm 4x4 (+1 counter), linear 8+2
  expect(description.totals).toEqual({ tensors: 9, numel: 139, bytes: 138 * 4 + 8 });
  expect(Object.fromEntries(description.totalsByDtype)).toEqual({
    F32: { tensors: 8, numel: 138, bytes: 552 },
    I64: { tensors: 1, numel: 1, bytes: 8 },
  });
});

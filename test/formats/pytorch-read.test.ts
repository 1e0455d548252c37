// Every tensor of files written by torch.save, in both containers and two pickle protocols,
// compared exactly with what PyTorch holds: views, shared storages, all dtypes, checkpoints.

import { beforeAll, describe, expect, it } from 'vitest';
import { expectTensors, ensureWeightFixtures, openFixture, type ExpectedFile } from './fixtures.js';

let expected: Record<string, ExpectedFile>;
beforeAll(() => {
  expected = ensureWeightFixtures();
});

const CASES: [file: string, format: string][] = [
  ['views_zip.pth', 'pytorch-zip'],
  ['views_legacy.pth', 'pytorch-legacy'],
  ['views_zip_protocol4.pth', 'pytorch-zip'],
  ['views_legacy_protocol4.pth', 'pytorch-legacy'],
  ['views_zip64.pth', 'pytorch-zip'],
  ['conv_bn_zip.pth', 'pytorch-zip'],
  ['conv_bn_legacy.pth', 'pytorch-legacy'],
  ['conv_bn_no_counter_zip.pth', 'pytorch-zip'],
  ['conv_bn_no_counter_legacy.pth', 'pytorch-legacy'],
  ['checkpoint_zip.pth', 'pytorch-zip'],
  // NumPy scalars beside the state dict (protocol 2 pickles their bytes as _codecs.encode calls).
  ['checkpoint_numpy_zip.pth', 'pytorch-zip'],
  ['checkpoint_numpy_protocol4_zip.pth', 'pytorch-zip'],
  // NumPy arrays beside it: _reconstruct at protocols 2 and 4, _frombuffer at protocol 5.
  ['checkpoint_numpy_arrays_protocol2_zip.pth', 'pytorch-zip'],
  ['checkpoint_numpy_arrays_protocol4_zip.pth', 'pytorch-zip'],
  ['checkpoint_numpy_arrays_protocol5_zip.pth', 'pytorch-zip'],
  ['pre_1_0_legacy.pth', 'pytorch-legacy'],
];

describe('reading PyTorch .pth files', () => {
  it.each(CASES)('%s matches PyTorch exactly', async (name, format) => {
    const file = await openFixture(name);
    try {
      expect(file.format).toBe(format);
      await expectTensors(file, expected[name]!);
    } finally {
      await file.close();
    }
  });

  it('keeps BatchNorm counters as int64 when present and has none when the file lacks them', async () => {
    const withCounter = await openFixture('conv_bn_legacy.pth');
    const without = await openFixture('conv_bn_no_counter_zip.pth');
    expect(withCounter.entries.get('1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [], numel: 1 });
    expect(await withCounter.readRaw('1.num_batches_tracked')).toEqual(new BigInt64Array([1n]));
    expect(without.entries.has('1.num_batches_tracked')).toBe(false);
    await Promise.all([withCounter.close(), without.close()]);
  });

  it('reads each tensor as its own copy even when views share a storage', async () => {
    const file = await openFixture('views_zip.pth');
    const first = await file.read('row_slice');
    const second = await file.read('shared_again');
    first.fill(0);
    expect(second).toEqual(await file.read('row_slice'));
    expect(second.some((v) => v !== 0)).toBe(true);
    await file.close();
  });
});

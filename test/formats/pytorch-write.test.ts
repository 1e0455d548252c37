// Our .pth writer, checked by the reader that matters: PyTorch's torch.load.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/models/formats/byte-source.js';
import { writeChunksToFile } from '../../src/models/formats/node-file-sink.js';
import { openWeights } from '../../src/models/formats/open-weights.js';
import { encodePytorchZip, writePytorchZip } from '../../src/models/formats/pth-write.js';
import type { TensorToWrite } from '../../src/models/formats/tensor-to-write.js';
import { entryDataStart, readZipDirectory } from '../../src/models/formats/zip-read.js';
import { dumpWithPyTorch, ensureWeightFixtures, expectTensors, openFixture, type ExpectedFile } from './fixtures.js';

let expected: Record<string, ExpectedFile>;
beforeAll(() => {
  expected = ensureWeightFixtures();
});

const temporary = (name: string) => join(mkdtempSync(join(tmpdir(), 'wgt-')), name);

describe('writing PyTorch zip .pth files', () => {
  it('torch.load reads back every tensor of a fixture exactly, views made contiguous', async () => {
    const source = await openFixture('views_legacy.pth');
    const tensors = new Map<string, TensorToWrite>();
    for (const [name, entry] of source.entries) {
      tensors.set(name, { dtype: entry.dtype, shape: entry.shape, data: await source.readRaw(name) });
    }
    await source.close();
    const path = temporary('rewritten.pth');
    await writeChunksToFile(path, encodePytorchZip(tensors));
    expect(dumpWithPyTorch(path)).toEqual(expected['views_legacy.pth']);
  });

  it('reads back through our own reader', async () => {
    const tensors = new Map<string, TensorToWrite>([
      ['features.0.weight', { dtype: 'F32', shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i / 3) }],
      ['bn.num_batches_tracked', { dtype: 'I64', shape: [], data: new BigInt64Array([-(2n ** 63n)]) }],
    ]);
    const file = await openWeights(bytesSource(writePytorchZip(tensors), 'ours.pth'));
    expect(file.format).toBe('pytorch-zip');
    await expectTensors(file, {
      'features.0.weight': { dtype: 'F32', shape: [2, 1, 2, 2], values: Array.from(tensors.get('features.0.weight')!.data as Float32Array) },
      'bn.num_batches_tracked': { dtype: 'I64', shape: [], values: [(-(2n ** 63n)).toString()] },
    });
  });

  it('starts every record on a 64-byte boundary, as PyTorch does for memory mapping', async () => {
    const tensors = new Map<string, TensorToWrite>(
      ['a', 'bb', 'ccc'].map((name, i) => [name, { dtype: 'U8', shape: [i + 1], data: new Uint8Array(i + 1) }]),
    );
    const source = bytesSource(writePytorchZip(tensors, 'model'));
    const entries = await readZipDirectory(source);
    expect(entries.map((e) => e.name)).toEqual([
      'model/data.pkl',
      'model/byteorder',
      'model/data/0',
      'model/data/1',
      'model/data/2',
      'model/version',
    ]);
    for (const entry of entries) expect((await entryDataStart(source, entry)) % 64).toBe(0);
  });
});

// safetensors: the hand-written fixture (every dtype), our writer read back by our reader and by
// PyTorch, and each way a header can lie about the file.

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/models/formats/byte-source.js';
import {
  CorruptHeaderError,
  TensorLayoutError,
  TruncatedFileError,
  UnsupportedDtypeError,
  type WeightFormatError,
} from '../../src/models/formats/errors.js';
import { openWeights } from '../../src/models/formats/open-weights.js';
import { openSafetensors } from '../../src/models/formats/safetensors-read.js';
import { encodeSafetensors, streamSafetensors, writeSafetensors } from '../../src/models/formats/safetensors-write.js';
import { writeChunksToFile } from '../../src/models/formats/node-file-sink.js';
import type { TensorToWrite } from '../../src/models/formats/tensor-to-write.js';
import { dumpWithPyTorch, ensureWeightFixtures, expectTensors, openFixture, type ExpectedFile } from './fixtures.js';

let expected: Record<string, ExpectedFile>;
beforeAll(() => {
  expected = ensureWeightFixtures();
});

const TENSORS = new Map<string, TensorToWrite>([
  ['conv.weight', { dtype: 'F32', shape: [2, 1, 1, 3], data: new Float32Array([1, -2, 3.5, 1e-30, 0, -0]) }],
  ['counter', { dtype: 'I64', shape: [], data: new BigInt64Array([2n ** 62n + 3n]) }],
  ['half', { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0x7bff, 0x0001]) }],
  ['brain', { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0xc049]) }],
  ['mask', { dtype: 'U8', shape: [5], data: new Uint8Array([1, 0, 1, 1, 0]) }],
  ['double', { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) }],
]);
const TENSORS_AS_PYTORCH_DUMPS: ExpectedFile = {
  'conv.weight': { dtype: 'F32', shape: [2, 1, 1, 3], values: [1, -2, 3.5, Math.fround(1e-30), 0, -0] },
  counter: { dtype: 'I64', shape: [], values: [(2n ** 62n + 3n).toString()] },
  half: { dtype: 'F16', shape: [3], values: [1, 65504, 2 ** -24] },
  brain: { dtype: 'BF16', shape: [2], values: [1, -3.140625] },
  mask: { dtype: 'U8', shape: [5], values: [1, 0, 1, 1, 0] },
  double: { dtype: 'F64', shape: [2], values: [Math.PI, -1e300] },
};

describe('reading safetensors', () => {
  it('reads every dtype of a file written by hand to the format description', async () => {
    const file = await openFixture('dtypes.safetensors');
    expect(file.format).toBe('safetensors');
    expect(file.metadata).toEqual({ format: 'pt', note: 'fixture' });
    await expectTensors(file, expected['dtypes.safetensors']!);
    await file.close();
  });
});

describe('writing safetensors', () => {
  it('pads the header with spaces to a multiple of 8 bytes', () => {
    const bytes = writeSafetensors(TENSORS, { source: 'test' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header).toMatch(/^\{.*\} *$/);
    expect(JSON.parse(header).__metadata__).toEqual({ source: 'test' });
  });

  it('reads back exactly through our reader', async () => {
    const file = await openWeights(bytesSource(writeSafetensors(TENSORS), 'ours.safetensors'));
    await expectTensors(file, TENSORS_AS_PYTORCH_DUMPS);
  });

  it('is recognised whatever its header length, also one whose first byte is pickle\'s 0x80', async () => {
    // Header lengths are multiples of 8: pad the metadata until the length is 128 + 256k.
    let pad = '';
    let bytes = writeSafetensors(TENSORS, { pad });
    while (bytes[0] !== 0x80) bytes = writeSafetensors(TENSORS, { pad: (pad += 'x') });
    const file = await openWeights(bytesSource(bytes, 'header-0x80.safetensors'));
    expect(file.format).toBe('safetensors');
    await expectTensors(file, TENSORS_AS_PYTORCH_DUMPS);
  });

  it('reads a header that starts with whitespace, as Python\'s safetensors does', async () => {
    const bytes = writeSafetensors(TENSORS);
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new Uint8Array([...new TextEncoder().encode('  \n'), ...bytes.subarray(8, 8 + length)]);
    const spaced = new Uint8Array(8 + header.length + bytes.length - 8 - length);
    new DataView(spaced.buffer).setBigUint64(0, BigInt(header.length), true);
    spaced.set(header, 8);
    spaced.set(bytes.subarray(8 + length), 8 + header.length);
    await expectTensors(await openWeights(bytesSource(spaced, 'spaced.safetensors')), TENSORS_AS_PYTORCH_DUMPS);
  });

  it('reads back exactly in PyTorch', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wgt-')), 'ours.safetensors');
    writeFileSync(path, Buffer.concat(encodeSafetensors(TENSORS)));
    expect(dumpWithPyTorch(path)).toEqual(TENSORS_AS_PYTORCH_DUMPS);
  });

  it('refuses data that does not match dtype and shape', () => {
    const wrong = new Map([['w', { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } as const]]);
    expect(() => writeSafetensors(wrong)).toThrow(/tensor "w": F32\[2,2\] needs 16 bytes, got 12/);
  });
});

describe('streaming safetensors (tensors fetched as the writer reaches them)', () => {
  it('writes the same bytes as the whole-file encoder, fetching one tensor at a time, after the chunks before it were taken', async () => {
    let outstanding = 0;
    let most = 0;
    const fetched: string[] = [];
    const lazy = new Map([...TENSORS].map(([name, t], i) => [name, i % 2 === 0
      ? { dtype: t.dtype, shape: t.shape, fetch: async () => {
        most = Math.max(most, ++outstanding);
        fetched.push(name);
        await new Promise((resolve) => setTimeout(resolve, 1));
        outstanding--;
        return t.data;
      } }
      : t]));
    const chunks: Uint8Array[] = [];
    for await (const chunk of streamSafetensors(lazy, { note: 'x' })) {
      chunks.push(chunk);
      expect(fetched.length).toBeLessThanOrEqual(chunks.length); // the header first, then a tensor per chunk taken
    }
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat(encodeSafetensors(TENSORS, { note: 'x' })));
    expect(fetched.sort()).toEqual(['conv.weight', 'half', 'mask']);
    expect(most).toBe(1);
  });

  it('transient: a tensor that lends its data is yielded in place and released only when the next chunk is asked for', async () => {
    const events: string[] = [];
    const lending = new Map([...TENSORS].map(([name, t]) => [name, {
      dtype: t.dtype, shape: t.shape,
      fetch: async () => {
        events.push(`copy ${name}`);
        return t.data;
      },
      fetchLent: async () => {
        events.push(`lend ${name}`);
        return { data: t.data, release: () => events.push(`release ${name}`) };
      },
    }]));
    const chunks: Uint8Array[] = [];
    for await (const chunk of streamSafetensors(lending, { note: 'x' }, { transient: true })) {
      const lent = events.filter((e) => e.startsWith('lend')).length;
      expect(events.filter((e) => e.startsWith('release'))).toHaveLength(Math.max(0, lent - 1)); // this chunk's tensor is still lent
      chunks.push(chunk.slice()); // a transient chunk is copied if kept
    }
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat(encodeSafetensors(TENSORS, { note: 'x' })));
    expect(events.filter((e) => e.startsWith('copy'))).toEqual([]);
    expect(events.filter((e) => e.startsWith('release'))).toHaveLength(TENSORS.size);

    // Without `transient` every chunk stays valid: the copies are fetched, nothing is lent.
    events.length = 0;
    for await (const chunk of streamSafetensors(lending)) void chunk;
    expect(events.every((e) => e.startsWith('copy'))).toBe(true);

    // A consumer that stops early still releases what is lent.
    events.length = 0;
    for await (const chunk of streamSafetensors(lending, {}, { transient: true })) {
      void chunk;
      if (events.length > 0) break; // past the header, at the first tensor
    }
    expect(events).toHaveLength(2);
    expect(events[1]).toBe(events[0]!.replace('lend', 'release'));
  });

  it('refuses fetched data that does not match dtype and shape, naming the tensor', async () => {
    const wrong = new Map([['w', { dtype: 'F32', shape: [2, 2], fetch: async () => new Float32Array(3) } as const]]);
    const drain = async () => {
      for await (const chunk of streamSafetensors(wrong)) void chunk;
    };
    await expect(drain()).rejects.toThrow(/tensor "w": F32\[2,2\] needs 16 bytes, got 12/);
  });
});

describe('writing a file (writeChunksToFile)', () => {
  it('replaces the file whole, and leaves the old one and no temporary file when a chunk fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgt-sink-'));
    const path = join(dir, 'weights.safetensors');
    await writeChunksToFile(path, encodeSafetensors(TENSORS));
    const before = readFileSync(path);
    async function* failing() {
      yield new Uint8Array(100);
      throw new Error('the GPU was lost mid-readback');
    }
    await expect(writeChunksToFile(path, failing(), { sync: true })).rejects.toThrow(/lost mid-readback/);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['weights.safetensors']);
  });
});

/** A safetensors file from a raw header (object or text) and a data area. */
function safetensors(header: object | string, data = new Uint8Array(16), headerLength?: number): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLength ?? text.byteLength), true);
  bytes.set(text, 8);
  bytes.set(data, 8 + text.byteLength);
  return bytes;
}

const GOOD = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };

describe('refusing broken safetensors with the file and key named', () => {
  const cases: [string, Uint8Array, new (...args: never[]) => WeightFormatError, RegExp][] = [
    ['header length past the end', safetensors(GOOD, undefined, 10_000), TruncatedFileError, /header length 10000 runs past the end/],
    ['corrupt JSON', safetensors('{"a": {"dtype": "F32",'), CorruptHeaderError, /header is not valid JSON/],
    ['offsets past the end', safetensors({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }), TensorLayoutError, /tensor "a": data_offsets end 32 is past the end of the data \(16 bytes\)/],
    ['offsets overlapping', safetensors({ a: GOOD.a, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), TensorLayoutError, /tensor "b": bytes \[4, 12\) overlap tensor "a"/],
    ['offsets not matching shape and dtype', safetensors({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }), TensorLayoutError, /tensor "a": data_offsets \[0, 8\] hold 8 bytes, but F16\[2\] needs 4/],
    ['offsets reversed', safetensors({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }), CorruptHeaderError, /tensor "a": "data_offsets" must be \[begin, end\]/],
    ['an unsupported dtype', safetensors({ a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }), UnsupportedDtypeError, /tensor "a": dtype F8_E4M3/],
    ['a negative shape', safetensors({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }), CorruptHeaderError, /tensor "a": entry needs/],
    ['metadata that is not strings', safetensors({ __metadata__: { epochs: 3 } }), CorruptHeaderError, /tensor "__metadata__": must map strings to strings/],
  ];
  it.each(cases)('%s', async (_, bytes, ErrorClass, message) => {
    const opening = openWeights(bytesSource(bytes, 'bad.safetensors'));
    await expect(opening).rejects.toThrow(ErrorClass);
    await expect(opening).rejects.toThrow(message);
    await expect(opening).rejects.toMatchObject({ file: 'bad.safetensors' });
  });

  // openWeights only calls a file safetensors when its header starts with "{"; these reach the
  // safetensors reader when it is called directly.
  it('a file shorter than the length field', async () => {
    const opening = openSafetensors(bytesSource(new Uint8Array(7), 'short.safetensors'));
    await expect(opening).rejects.toThrow(TruncatedFileError);
    await expect(opening).rejects.toThrow(/short\.safetensors: shorter than the 8-byte header length/);
  });

  it('a header that is JSON but not an object', async () => {
    await expect(openSafetensors(bytesSource(safetensors('[1, 2]'), 'list.safetensors'))).rejects.toThrow(
      /list\.safetensors: header JSON is not an object/,
    );
  });

  it('opens the well-formed file those cases were made from', async () => {
    const file = await openWeights(bytesSource(safetensors(GOOD), 'good.safetensors'));
    expect([...file.entries.keys()]).toEqual(['a', 'b']);
  });
});

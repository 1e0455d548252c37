// Hostile and damaged .pth files: refused before anything runs, with the file, the key and the
// reason in the message.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/models/formats/byte-source.js';
import {
  CorruptHeaderError,
  TensorLayoutError,
  TruncatedFileError,
  UnknownFormatError,
  UnsafePickleError,
  UnsupportedDtypeError,
  UnsupportedFeatureError,
} from '../../src/models/formats/errors.js';
import { openWeights } from '../../src/models/formats/open-weights.js';
import { PickleWriter } from '../../src/models/formats/pickle-write.js';
import type { TensorLocation } from '../../src/models/formats/weight-file.js';
import { encodeZip } from '../../src/models/formats/zip-write.js';
import { concatBytes } from '../../src/models/formats/tensor-to-write.js';
import { ensureWeightFixtures, openFixture, WEIGHTS_DIR } from './fixtures.js';

beforeAll(() => {
  ensureWeightFixtures();
});

const fixtureBytes = (name: string) => new Uint8Array(readFileSync(WEIGHTS_DIR + name));
const open = (bytes: Uint8Array, name = 'bad.pth') => openWeights(bytesSource(bytes, name));

/** A zip .pth with a hand-made data.pkl and one 16-byte storage "0". */
function zipWithPickle(pickle: Uint8Array): Uint8Array {
  return concatBytes(
    encodeZip([
      { name: 'archive/data.pkl', data: pickle },
      { name: 'archive/data/0', data: new Uint8Array(16) },
    ]),
  );
}

/** {'w': tensor over storage "0" of `storageType`, with the given view}. */
function stateDictPickle(storageType: string, offset: number, size: number[], stride: number[]): Uint8Array {
  const pickle = new PickleWriter().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  pickle.string('w').global('torch._utils', '_rebuild_tensor_v2').mark();
  pickle.mark().string('storage').global('torch', storageType).string('0').string('cpu').int(4).tuple().persistentId();
  pickle.int(offset).intTuple(size).intTuple(stride).bool(false);
  pickle.global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  return pickle.setItems().stop();
}

describe('refusing code in pickles', () => {
  it.each(['malicious_zip.pth', 'malicious_legacy.pth'])('%s: refuses posix.system by name', async (name) => {
    const opening = openFixture(name);
    await expect(opening).rejects.toThrow(UnsafePickleError);
    await expect(opening).rejects.toThrow(`${name}: refusing pickle global "posix.system"`);
  });

  it('refuses GLOBAL "os system" as the very first pickle of a stream', async () => {
    // \x80\x02 c os\nsystem\n X "ls" \x85 R .
    const pickle = [0x80, 2, 0x63, ...new TextEncoder().encode('os\nsystem\n'), 0x58, 2, 0, 0, 0, 0x6c, 0x73, 0x85, 0x52, 0x2e];
    await expect(open(Uint8Array.from(pickle), 'evil.pth')).rejects.toThrow(/evil\.pth: refusing pickle global "os\.system"/);
  });

  it('refuses a non-tensor torch function (torch.storage._load_from_bytes) in data.pkl', async () => {
    const pickle = new PickleWriter().global('torch.storage', '_load_from_bytes').mark().tuple().reduce().stop();
    const opening = open(zipWithPickle(pickle));
    await expect(opening).rejects.toThrow(UnsafePickleError);
    await expect(opening).rejects.toMatchObject({ global: 'torch.storage._load_from_bytes' });
  });
});

describe('refusing dicts that cannot be a state dict', () => {
  /** A tensor over storage "0" of four floats (zipWithPickle's). */
  const tensor = (p: PickleWriter) => {
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().string('storage').global('torch', 'FloatStorage').string('0').string('cpu').int(4).tuple().persistentId();
    p.int(0).intTuple([4]).intTuple([1]).bool(false);
    return p.global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  };

  it('a dict that contains itself', async () => {
    // {} BINPUT 0, 'self', BINGET 0, SETITEM: d['self'] = d
    const pickle = Uint8Array.from([0x80, 2, 0x7d, 0x71, 0, 0x58, 4, 0, 0, 0, ...new TextEncoder().encode('self'), 0x68, 0, 0x73, 0x2e]);
    await expect(open(zipWithPickle(pickle))).rejects.toThrow(/bad\.pth: .*the dict at "self" contains itself/);
  });

  it('two tensors under one name once nested names are joined ("a.b", and "b" in "a")', async () => {
    const p = new PickleWriter().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    tensor(p.string('a.b'));
    tensor(p.string('a').global('collections', 'OrderedDict').emptyTuple().reduce().mark().string('b')).setItems();
    const opening = open(zipWithPickle(p.setItems().stop()));
    await expect(opening).rejects.toThrow(CorruptHeaderError);
    await expect(opening).rejects.toThrow(/"a\.b".*two tensors have this name/);
  });
});

describe('refusing damaged files', () => {
  it('wrong magic: names the first bytes, and HDF5 for Keras files', async () => {
    await expect(open(new TextEncoder().encode('hello, not weights'))).rejects.toThrow(
      /bad\.pth: not safetensors or a PyTorch \.pth: starts with 68 65 6c 6c/,
    );
    const keras = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    const opening = open(keras, 'vgg16.h5');
    await expect(opening).rejects.toThrow(UnknownFormatError);
    await expect(opening).rejects.toThrow(/HDF5/);
  });

  it('a pickle stream that is not a PyTorch file', async () => {
    const pickle = new PickleWriter().int(42).stop();
    await expect(open(pickle)).rejects.toThrow(/wrong magic number/);
  });

  it('a zip truncated to half its size', async () => {
    const bytes = fixtureBytes('views_zip.pth');
    await expect(open(bytes.subarray(0, bytes.length >> 1))).rejects.toThrow(/zip end-of-directory record not found/);
  });

  it('a legacy file truncated inside its storages names the storage', async () => {
    const bytes = fixtureBytes('views_legacy.pth');
    const opening = open(bytes.subarray(0, bytes.length - 10));
    await expect(opening).rejects.toThrow(TruncatedFileError);
    await expect(opening).rejects.toThrow(/storage "\d+" \(\d+ bytes at \d+\) runs past the end of the file/);
  });

  it('a legacy file truncated inside its pickles', async () => {
    await expect(open(fixtureBytes('views_legacy.pth').subarray(0, 200))).rejects.toThrow(
      /pickle starting at byte \d+ ends before its STOP opcode/,
    );
  });

  it('a legacy storage whose element count disagrees with the pickle', async () => {
    const bytes = fixtureBytes('conv_bn_legacy.pth');
    // Each storage's count sits just before its bytes; the reader's located entries say where.
    const located = (await open(bytes)).entries as ReadonlyMap<string, TensorLocation>;
    const firstStorage = Math.min(...[...located.values()].map((location) => location.storageStart));
    new DataView(bytes.buffer).setBigInt64(firstStorage - 8, 999n, true);
    await expect(open(bytes)).rejects.toThrow(/records 999 elements, the pickle says/);
  });

  it('a compressed zip entry', async () => {
    const opening = openFixture('views_deflated.pth');
    await expect(opening).rejects.toThrow(UnsupportedFeatureError);
    await expect(opening).rejects.toThrow(/views_deflated\.pth: zip record "views_zip\/data\.pkl" is compressed/);
  });

  it('a zip without data.pkl', async () => {
    const zip = concatBytes(encodeZip([{ name: 'notes/readme.txt', data: new Uint8Array(3) }]));
    await expect(open(zip)).rejects.toThrow(/a zip file without data\.pkl/);
  });

  it('a view that reaches past the end of its storage names the tensor', async () => {
    const opening = open(zipWithPickle(stateDictPickle('FloatStorage', 2, [2, 2], [2, 1])));
    await expect(opening).rejects.toThrow(TensorLayoutError);
    await expect(opening).rejects.toThrow(/tensor "w": view \(offset 2, size \[2,2\], stride \[2,1\]\) needs 24 bytes of storage "0", which holds 16/);
  });

  it('a storage record missing from the zip', async () => {
    const pickle = stateDictPickle('FloatStorage', 0, [4], [1]);
    const zip = concatBytes(encodeZip([{ name: 'archive/data.pkl', data: pickle }]));
    await expect(open(zip)).rejects.toThrow(/storage record archive\/data\/0 is missing/);
  });

  it('an unsupported storage dtype, naming the tensor', async () => {
    const opening = open(zipWithPickle(stateDictPickle('ComplexFloatStorage', 0, [2], [1])));
    await expect(opening).rejects.toThrow(UnsupportedDtypeError);
    await expect(opening).rejects.toThrow(/"w".*storage type torch\.ComplexFloatStorage/);
  });

  it('a complex tensor saved by PyTorch, naming its key', async () => {
    const opening = openFixture('complex_zip.pth');
    await expect(opening).rejects.toThrow(UnsupportedDtypeError);
    await expect(opening).rejects.toThrow(/"z".*torch\.ComplexFloatStorage \(complex and quantized tensors are not read\)/);
  });

  it.each(['protocol0_zip.pth', 'protocol1_zip.pth'])('%s: pickle protocols 0 and 1 are named, with what to do', async (name) => {
    const opening = openFixture(name);
    await expect(opening).rejects.toThrow(CorruptHeaderError);
    await expect(opening).rejects.toThrow(/unsupported opcode 0x[0-9a-f]{2} \(a pickle of protocol 0 or 1.*save it with the default protocol\)/);
  });

  it('a pickle with an opcode outside the supported set', async () => {
    const opening = open(zipWithPickle(Uint8Array.from([0x80, 2, 0x82, 1, 0x2e]))); // EXT1
    await expect(opening).rejects.toThrow(CorruptHeaderError);
    await expect(opening).rejects.toThrow(/pickle at byte 2: unsupported opcode 0x82/);
  });

  it('reading a name the file lacks', async () => {
    const file = await openFixture('conv_bn_zip.pth');
    await expect(file.read('classifier.6.weight')).rejects.toThrow(/conv_bn_zip\.pth: tensor "classifier\.6\.weight": no such tensor/);
    await file.close();
  });
});

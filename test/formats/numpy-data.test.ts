// NumPy scalars and arrays decoded from their pickled parts (src/models/formats/numpy-data.ts); the
// files PyTorch writes with them are read in pytorch-read.test.ts.
import { describe, expect, it } from 'vitest';
import { buildNumpyArray, buildNumpyDtype, NUMPY_GLOBALS, NUMPY_NDARRAY, NumpyArray, NumpyDtype } from '../../src/models/formats/numpy-data.js';
import { PickleGlobal } from '../../src/models/formats/pickle.js';

const dtype = (code: string, order = '<') => {
  const d = NUMPY_GLOBALS['numpy.dtype']!([code, false, true]) as NumpyDtype;
  buildNumpyDtype(d, [3, order, null, null, null, -1, -1, 0]);
  return d;
};
const bytesOf = (write: (view: DataView) => void, length: number) => {
  const bytes = new Uint8Array(length);
  write(new DataView(bytes.buffer));
  return bytes;
};
const scalar = NUMPY_GLOBALS['numpy.core.multiarray.scalar']!;

describe('NumPy scalars', () => {
  it('decode every dtype numpy pickles a number or boolean as, in either byte order', () => {
    expect(scalar([dtype('f8'), bytesOf((v) => v.setFloat64(0, 0.875, true), 8)])).toBe(0.875);
    expect(scalar([dtype('f8', '>'), bytesOf((v) => v.setFloat64(0, -2.5, false), 8)])).toBe(-2.5);
    expect(scalar([dtype('f4'), bytesOf((v) => v.setFloat32(0, 0.1, true), 4)])).toBe(Math.fround(0.1));
    expect(scalar([dtype('f2'), Uint8Array.from([0x00, 0x38])])).toBe(0.5); // float16 0x3800
    expect(scalar([dtype('i8'), bytesOf((v) => v.setBigInt64(0, 3n, true), 8)])).toBe(3);
    expect(scalar([dtype('i8'), bytesOf((v) => v.setBigInt64(0, 2n ** 60n, true), 8)])).toBe(2n ** 60n);
    expect(scalar([dtype('i4', '>'), bytesOf((v) => v.setInt32(0, -7, false), 4)])).toBe(-7);
    expect(scalar([dtype('u1', '|'), Uint8Array.from([200])])).toBe(200);
    expect(scalar([dtype('b1', '|'), Uint8Array.from([1])])).toBe(true);
  });

  it("read protocol 2's bytes (a latin-1 string through _codecs.encode), and refuse what they cannot be", () => {
    const encode = NUMPY_GLOBALS['_codecs.encode']!;
    expect(Array.from(encode(['\x00\xe0?', 'latin1']) as Uint8Array)).toEqual([0, 0xe0, 0x3f]);
    expect(() => encode(['x', 'utf-8'])).toThrow(/latin1/);
    expect(() => scalar([dtype('c8'), new Uint8Array(8)])).toThrow(/dtype 'c8'/);
    expect(() => scalar([dtype('f8'), new Uint8Array(4)])).toThrow(/4 bytes/);
    expect(() => scalar(['f8', new Uint8Array(8)])).toThrow(/without a dtype/);
  });

  it('keep an array as its shape and dtype, from either way NumPy pickles one', () => {
    const reconstruct = NUMPY_GLOBALS['numpy.core.multiarray._reconstruct']!;
    const array = reconstruct([NUMPY_NDARRAY, [0], Uint8Array.from([98])]) as NumpyArray;
    buildNumpyArray(array, [1, [2, 3], dtype('i4', '>'), false, new Uint8Array(24)]);
    expect(array.shape).toEqual([2, 3]);
    expect(array.dtype?.littleEndian).toBe(false);
    const fromBuffer = NUMPY_GLOBALS['numpy._core.numeric._frombuffer']!; // NumPy 2's module
    expect((fromBuffer([new Uint8Array(16), dtype('f4'), [4], 'C']) as NumpyArray).shape).toEqual([4]);
  });

  it('refuse an array of another class, or with a malformed state', () => {
    const reconstruct = NUMPY_GLOBALS['numpy.core.multiarray._reconstruct']!;
    expect(() => reconstruct([new PickleGlobal('numpy', 'matrix'), [0], 'b'])).toThrow(/numpy.matrix, not numpy.ndarray/);
    expect(() => buildNumpyArray(new NumpyArray(), [1, [2, -1], dtype('f4'), false, new Uint8Array(0)])).toThrow(/not \(version, shape, dtype/);
    expect(() => buildNumpyArray(new NumpyArray(), [1, [2], 'f4', false, new Uint8Array(8)])).toThrow(/not \(version, shape, dtype/);
  });
});

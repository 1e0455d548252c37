// NumPy scalars decoded from their pickled parts (src/models/formats/numpy-scalar.ts); the files
// PyTorch writes with them are read in pytorch-read.test.ts.
import { describe, expect, it } from 'vitest';
import { buildNumpyDtype, NUMPY_SCALAR_GLOBALS, NumpyDtype } from '../../src/models/formats/numpy-scalar.js';

const dtype = (code: string, order = '<') => {
  const d = NUMPY_SCALAR_GLOBALS['numpy.dtype']!([code, false, true]) as NumpyDtype;
  buildNumpyDtype(d, [3, order, null, null, null, -1, -1, 0]);
  return d;
};
const bytesOf = (write: (view: DataView) => void, length: number) => {
  const bytes = new Uint8Array(length);
  write(new DataView(bytes.buffer));
  return bytes;
};
const scalar = NUMPY_SCALAR_GLOBALS['numpy.core.multiarray.scalar']!;

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
    const encode = NUMPY_SCALAR_GLOBALS['_codecs.encode']!;
    expect(Array.from(encode(['\x00\xe0?', 'latin1']) as Uint8Array)).toEqual([0, 0xe0, 0x3f]);
    expect(() => encode(['x', 'utf-8'])).toThrow(/latin1/);
    expect(() => scalar([dtype('c8'), new Uint8Array(8)])).toThrow(/dtype 'c8'/);
    expect(() => scalar([dtype('f8'), new Uint8Array(4)])).toThrow(/4 bytes/);
    expect(() => scalar(['f8', new Uint8Array(8)])).toThrow(/without a dtype/);
  });
});

// NumPy scalars in a checkpoint ({'model': sd, 'best_acc': np.float64(0.93)}), read as plain
// numbers. NumPy pickles one as numpy.core.multiarray.scalar(dtype, raw bytes), the dtype as
// numpy.dtype('f8', False, True) followed by a BUILD of its state (whose second item is the byte
// order), and, at protocol 2, the bytes as _codecs.encode(text, 'latin1'). Each is decoded here
// from data; nothing is imported or run. Anything else NumPy (an array) is still refused.

import { halfToFloat } from './dtype.js';

/** numpy.dtype(code, align, copy), e.g. 'f8'; its byte order comes from a later BUILD. */
export class NumpyDtype {
  littleEndian = true;
  constructor(readonly code: string) {}
}

/** The stand-ins for the globals a NumPy scalar is pickled with, by qualified name. */
export const NUMPY_SCALAR_GLOBALS: Readonly<Record<string, (args: readonly unknown[]) => unknown>> = {
  'numpy.dtype': ([code]) => new NumpyDtype(String(code)),
  'numpy.core.multiarray.scalar': scalar,
  'numpy._core.multiarray.scalar': scalar, // NumPy 2's module name
  // Protocol 2 has no bytes opcode: Python 3 pickles bytes as this call on a latin-1 string.
  '_codecs.encode': ([text, encoding]) => {
    if (typeof text !== 'string' || encoding !== 'latin1') throw new TypeError('_codecs.encode other than (str, "latin1")');
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  },
};

/** BUILD on a dtype: its state is (version, byte order, ...); '>' is big-endian. */
export function buildNumpyDtype(dtype: NumpyDtype, state: unknown): void {
  const order = Array.isArray(state) ? state[1] : undefined;
  dtype.littleEndian = order !== '>';
}

/** The scalar's value: a number, a boolean, or a bigint for 64-bit integers past 2^53. */
function scalar([dtype, raw]: readonly unknown[]): number | bigint | boolean {
  if (!(dtype instanceof NumpyDtype) || !(raw instanceof Uint8Array)) throw new TypeError('numpy scalar without a dtype and its bytes');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = dtype.littleEndian;
  const kind = dtype.code.replace(/^[<>=|]/, '');
  const read: Record<string, () => number | bigint | boolean> = {
    f2: () => halfToFloat(view.getUint16(0, little)),
    f4: () => view.getFloat32(0, little),
    f8: () => view.getFloat64(0, little),
    i1: () => view.getInt8(0),
    i2: () => view.getInt16(0, little),
    i4: () => view.getInt32(0, little),
    i8: () => exact(view.getBigInt64(0, little)),
    u1: () => view.getUint8(0),
    u2: () => view.getUint16(0, little),
    u4: () => view.getUint32(0, little),
    u8: () => exact(view.getBigUint64(0, little)),
    b1: () => view.getUint8(0) !== 0,
  };
  const decode = read[kind];
  if (!decode) throw new TypeError(`numpy scalar of dtype '${dtype.code}'`);
  if (raw.byteLength < Number(kind.slice(1))) throw new TypeError(`numpy scalar of dtype '${dtype.code}' with ${raw.byteLength} bytes`);
  return decode();
}

/** A bigint as a number when that loses nothing. */
const exact = (value: bigint): number | bigint => (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);

// NumPy values in a checkpoint ({'model': sd, 'best_acc': np.float64(0.93), 'mean': np.array(...)}),
// read as data and left out, like every value that is not a tensor. Nothing is imported or run:
//  - a scalar is numpy.core.multiarray.scalar(dtype, raw bytes), read as a plain number;
//  - a dtype is numpy.dtype('f8', False, True) and a BUILD of its state (whose second item is the
//    byte order);
//  - an array is _reconstruct(numpy.ndarray, (0,), b'b') and a BUILD of its state (version, shape,
//    dtype, Fortran order, data), or, at protocol 5, _frombuffer(data, dtype, shape, order): its
//    shape and dtype are kept, its values are not;
//  - at protocol 2, bytes are _codecs.encode(text, 'latin1').
// NumPy 2 names the module numpy._core; both are read. Other NumPy classes (np.matrix, masked
// arrays) are refused, as every global outside the allow-list is.

import { halfToFloat } from './dtype.js';
import { PickleGlobal } from './pickle.js';

/** numpy.dtype(code, align, copy), e.g. 'f8'; its byte order comes from a later BUILD. */
export class NumpyDtype {
  littleEndian = true;
  constructor(readonly code: string) {}
}

/** An ndarray: its shape and dtype; its values are not read. */
export class NumpyArray {
  shape: readonly number[] = [];
  dtype: NumpyDtype | null = null;
}

/** numpy.ndarray is only an argument of _reconstruct: it has no `call`, so a pickle cannot call it. */
export const NUMPY_NDARRAY = new PickleGlobal('numpy', 'ndarray');

/** The stand-ins for the globals NumPy values are pickled with, by qualified name. */
export const NUMPY_GLOBALS: Readonly<Record<string, (args: readonly unknown[]) => unknown>> = {
  'numpy.dtype': ([code]) => new NumpyDtype(String(code)),
  ...bothModules('multiarray.scalar', scalar),
  ...bothModules('multiarray._reconstruct', reconstruct),
  ...bothModules('numeric._frombuffer', fromBuffer),
  // Protocol 2 has no bytes opcode: Python 3 pickles bytes as this call on a latin-1 string.
  '_codecs.encode': ([text, encoding]) => {
    if (typeof text !== 'string' || encoding !== 'latin1') throw new TypeError('_codecs.encode other than (str, "latin1")');
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  },
};

/** numpy.core.<name> and NumPy 2's numpy._core.<name>. */
function bothModules(name: string, read: (args: readonly unknown[]) => unknown): Record<string, (args: readonly unknown[]) => unknown> {
  return { [`numpy.core.${name}`]: read, [`numpy._core.${name}`]: read };
}

/** BUILD on a dtype: its state is (version, byte order, ...); '>' is big-endian. */
export function buildNumpyDtype(dtype: NumpyDtype, state: unknown): void {
  const order = Array.isArray(state) ? state[1] : undefined;
  dtype.littleEndian = order !== '>';
}

/** _reconstruct(numpy.ndarray, (0,), b'b'): an empty array that a BUILD then fills. */
function reconstruct([cls]: readonly unknown[]): NumpyArray {
  if (cls !== NUMPY_NDARRAY) throw new TypeError(`_reconstruct of ${cls instanceof PickleGlobal ? cls.qualifiedName : typeof cls}, not numpy.ndarray`);
  return new NumpyArray();
}

/** BUILD on an array: its state is (version, shape, dtype, Fortran order, data). */
export function buildNumpyArray(array: NumpyArray, state: unknown): void {
  const [, shape, dtype] = Array.isArray(state) ? state : [];
  setShapeAndDtype(array, shape, dtype, 'ndarray state is not (version, shape, dtype, order, data)');
}

/** Protocol 5's _frombuffer(data, dtype, shape, order). */
function fromBuffer([, dtype, shape]: readonly unknown[]): NumpyArray {
  const array = new NumpyArray();
  setShapeAndDtype(array, shape, dtype, '_frombuffer arguments are not (data, dtype, shape, order)');
  return array;
}

function setShapeAndDtype(array: NumpyArray, shape: unknown, dtype: unknown, malformed: string): void {
  const isShape = Array.isArray(shape) && shape.every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!isShape || !(dtype instanceof NumpyDtype)) throw new TypeError(malformed);
  array.shape = shape;
  array.dtype = dtype;
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

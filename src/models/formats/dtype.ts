// Element types as safetensors names them, with their byte size, the typed array that holds
// them raw, and how to widen them to float32 (what the GPU trains in).
// All readers assume a little-endian host, which every WebGPU platform is.

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** F16 and BF16 come back as their raw 16-bit patterns; I64 as BigInt64Array. */
export type RawTensorData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

interface DTypeInfo {
  readonly bytes: number;
  /** Views `bytes` elements of raw data in place. */
  readonly view: (buffer: ArrayBuffer, byteOffset: number, length: number) => RawTensorData;
  readonly allocate: (length: number) => RawTensorData;
}

function info<T extends RawTensorData>(
  bytes: number,
  Array: { new (length: number): T; new (buffer: ArrayBuffer, byteOffset: number, length: number): T },
): DTypeInfo {
  return { bytes, view: (buffer, offset, length) => new Array(buffer, offset, length), allocate: (n) => new Array(n) };
}

const DTYPES: Record<DType, DTypeInfo> = {
  F64: info(8, Float64Array),
  F32: info(4, Float32Array),
  F16: info(2, Uint16Array),
  BF16: info(2, Uint16Array),
  I64: info(8, BigInt64Array),
  I32: info(4, Int32Array),
  I16: info(2, Int16Array),
  I8: info(1, Int8Array),
  U8: info(1, Uint8Array),
  BOOL: info(1, Uint8Array),
};

export function isDType(name: string): name is DType {
  return Object.hasOwn(DTYPES, name);
}

export function dtypeBytes(dtype: DType): number {
  return DTYPES[dtype].bytes;
}

export function allocateRaw(dtype: DType, length: number): RawTensorData {
  return DTYPES[dtype].allocate(length);
}

/** Views raw little-endian bytes as `dtype` without copying when the alignment allows it. */
export function viewRaw(dtype: DType, bytes: Uint8Array): RawTensorData {
  const { bytes: size, view } = DTYPES[dtype];
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return view(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / size);
}

export function rawBytes(data: RawTensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Widens raw data to float32; float32 input is returned as is. */
export function toFloat32(dtype: DType, raw: RawTensorData): Float32Array {
  if (dtype === 'F32') return raw as Float32Array;
  const out = new Float32Array(raw.length);
  if (dtype === 'F16') {
    const bits = raw as Uint16Array;
    for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]!);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32: shift it back into place.
    const widened = new Uint32Array(out.buffer);
    const bits = raw as Uint16Array;
    for (let i = 0; i < bits.length; i++) widened[i] = bits[i]! << 16;
  } else if (dtype === 'I64') {
    const ints = raw as BigInt64Array;
    for (let i = 0; i < ints.length; i++) out[i] = Number(ints[i]!);
  } else {
    out.set(raw as Exclude<RawTensorData, BigInt64Array>);
  }
  return out;
}

/** IEEE 754 binary16 to a JS number (exact: every half is representable in float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

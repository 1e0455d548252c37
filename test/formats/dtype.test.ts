import { describe, expect, it } from 'vitest';
import { halfToFloat, toFloat32 } from '../../src/models/formats/dtype.js';

describe('widening to float32', () => {
  it('decodes half precision edge cases', () => {
    expect(halfToFloat(0x0000)).toBe(0);
    expect(halfToFloat(0x8000)).toBe(-0);
    expect(halfToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('widens bfloat16 by placing it in the top half of a float32', () => {
    const bits = Uint16Array.from([0x3f80, 0xc049, 0x7f80, 0x0001]);
    expect(Array.from(toFloat32('BF16', bits))).toEqual([1, -3.140625, Infinity, 2 ** -133]);
  });

  it('rounds float64 and int64 to the nearest float32, and returns float32 input as is', () => {
    expect(Array.from(toFloat32('F64', Float64Array.from([1 / 3])))).toEqual([Math.fround(1 / 3)]);
    expect(Array.from(toFloat32('I64', BigInt64Array.from([2n ** 60n + 1n, -3n])))).toEqual([2 ** 60, -3]);
    const f32 = Float32Array.from([1, 2]);
    expect(toFloat32('F32', f32)).toBe(f32);
  });
});

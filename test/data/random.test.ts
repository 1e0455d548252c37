import { describe, expect, it } from 'vitest';
import { seededPermutation } from '../../src/data/permutation.js';
import { randomBelow, randomStream, randomWords, threefry2x32, uniformFloat } from '../../src/data/random.js';

describe('threefry2x32', () => {
  it('matches the Random123 known-answer vectors (20 rounds)', () => {
    expect(threefry2x32(0, 0, 0, 0)).toEqual([0x6b200159, 0x99ba4efe]);
    expect(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });

  it('maps (seed, stream) to the key and (index, block) to the counter', () => {
    expect(randomWords(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });

  it('refuses words outside u32', () => {
    expect(() => randomWords(-1, 0, 0)).toThrow(RangeError);
    expect(() => randomWords(2 ** 32, 0, 0)).toThrow(RangeError);
    expect(() => randomWords(0.5, 0, 0)).toThrow(RangeError);
  });
});

describe('uniformFloat', () => {
  it('is the top 24 bits of a word over 2^24, draw k from block k/2, word k%2', () => {
    const [w0, w1] = randomWords(7, 3, 11, 0);
    const [w2] = randomWords(7, 3, 11, 1);
    expect(uniformFloat(7, 3, 11, 0)).toBe((w0 >>> 8) / 16777216);
    expect(uniformFloat(7, 3, 11, 1)).toBe((w1 >>> 8) / 16777216);
    expect(uniformFloat(7, 3, 11, 2)).toBe((w2 >>> 8) / 16777216);
  });

  it('is exactly representable in f32, as a WGSL port computes it', () => {
    for (let i = 0; i < 1000; i++) {
      const u = uniformFloat(1, 2, i);
      expect(Math.fround(u)).toBe(u);
    }
  });

  it('is uniform on [0, 1): mean, variance and a 10-bin histogram', () => {
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    let sumSquares = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = uniformFloat(42, randomStream('augment', 0), i);
      min = Math.min(min, u);
      max = Math.max(max, u);
      sum += u;
      sumSquares += u * u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumSquares / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    const chiSquare = bins.reduce((acc, observed) => acc + (observed - n / 10) ** 2 / (n / 10), 0);
    expect(chiSquare).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
  });

  it('gives unrelated values for neighbouring seeds, streams and indices', () => {
    const values = new Set<number>();
    for (const seed of [0, 1]) for (const stream of [0, 1]) for (const index of [0, 1]) values.add(uniformFloat(seed, stream, index));
    expect(values.size).toBe(8);
  });
});

describe('randomStream', () => {
  it('puts the purpose in the top byte and the sub-index below it', () => {
    expect(randomStream('split', 0)).toBe(0x01000000);
    expect(randomStream('shuffle', 5)).toBe(0x02000005);
    expect(randomStream('augment', 0xffffff)).toBe(0x03ffffff);
    expect(() => randomStream('shuffle', 1 << 24)).toThrow(RangeError);
  });
});

describe('randomBelow', () => {
  it('stays in [0, bound) and reaches every value', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const k = randomBelow(9, 9, i, 7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(7);
  });
});

describe('seededPermutation', () => {
  it('is a permutation, the same for the same seed and stream', () => {
    const order = seededPermutation(1000, 5, randomStream('shuffle', 0));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seededPermutation(1000, 5, randomStream('shuffle', 0))).toEqual(order);
  });

  it('differs between epochs and seeds', () => {
    const a = seededPermutation(100, 5, randomStream('shuffle', 0));
    expect(seededPermutation(100, 5, randomStream('shuffle', 1))).not.toEqual(a);
    expect(seededPermutation(100, 6, randomStream('shuffle', 0))).not.toEqual(a);
  });

  it('puts each element in each position about equally often', () => {
    const n = 4;
    const trials = 24_000;
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let seed = 0; seed < trials; seed++) {
      seededPermutation(n, seed, 0).forEach((value, position) => counts[value]![position]!++);
    }
    for (const row of counts) for (const count of row) expect(Math.abs(count - trials / n)).toBeLessThan(300);
  });

  it('handles the empty and one-element cases', () => {
    expect(seededPermutation(0, 1, 1)).toEqual(new Uint32Array(0));
    expect(seededPermutation(1, 1, 1)).toEqual(Uint32Array.of(0));
  });
});

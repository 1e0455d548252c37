import { describe, expect, it } from 'vitest';
import { compareReports, type ComparedReport } from '../bench/compare.js';

const meta = (commit: string) => ({ commit, date: '2026-11-28', adapterLine: 'llvmpipe (test)' });
const step = (name: string, oursMs: number, samples: number[], tfjsMs: number | null) => ({ name, shape: '4x3x64x64, 2 classes', oursMs, tfjsMs, oursImagesPerSec: 4000 / oursMs, oursPeakBytes: 100 * 2 ** 20, oursSamplesMs: samples });
const report = (commit: string, train: ComparedReport['train'], torchMs?: number): ComparedReport => ({
  meta: meta(commit),
  kernels: [{ name: 'matmul', shape: '512x512 @ 512x512', unit: 'GFLOP/s', oursMs: 30, tfjsMs: 60, oursRate: 8.9, oursSamplesMs: [29, 30, 31] }],
  train,
  torch: torchMs ? { results: [{ name: 'train.a', shape: '4x3x64x64, 2 classes', medianMs: torchMs }] } : null,
});

describe('bench/compare.ts', () => {
  const before = report('aaa', [step('train.a', 200, [190, 200, 210], 400), step('train.b', 100, [99, 100, 101], 300), step('train.gone', 50, [50, 50], null)], 50);
  const after = report('bbb', [step('train.a', 205, [195, 205, 215], 400), step('train.b', 80, [79, 80, 81], 240), step('train.new', 10, [10, 10], null)], 50);
  const table = compareReports(before, after);
  const row = (name: string) => table.split('\n').find((l) => l.startsWith(`| ${name} |`))!.split('|').map((c) => c.trim());

  it('says whether a row moved by more than its samples spread', () => {
    expect(row('train.a').slice(5, 7)).toEqual(['0.98x', 'within ±5%']); // 200 -> 205 ms, samples ±5%
    expect(row('train.b').slice(5, 7)).toEqual(['1.25x', 'faster']);
    expect(row('matmul').slice(5, 7)).toEqual(['1.00x', 'within ±3%']);
  });

  it("divides out the peer's move on the same row, and gives ours as a share of PyTorch's", () => {
    expect(row('train.b').slice(7, 9)).toEqual(['1.25x', '1.00x']); // tfjs sped up as much: the machine did
    expect(row('train.a')[9]).toBe('25% -> 24%'); // PyTorch 50 ms against ours 200, then 205
    expect(row('train.a')[10]).toBe('100 -> 100');
  });

  it('lists the rows only one report has, and says when the adapters differ', () => {
    expect(table).toContain('Only before: train.gone');
    expect(table).toContain('Only after: train.new');
    expect(table).not.toContain('adapters differ');
    expect(compareReports(before, { ...after, meta: { ...after.meta, adapterLine: 'SwiftShader' } })).toContain('**the adapters differ**');
  });
});

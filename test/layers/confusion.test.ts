import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { GpuContext, Tensor, tensor } from '../../src/node.js';
import { accuracy } from '../../src/ops/loss.js';
import { runConfusionInto } from '../../src/kernels/confusion.js';
import { ConfusionCounts } from '../../src/train/metrics.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

const classes = 5;
const rows = 700; // several workgroups, many rows per cell: the atomics are exercised

/** Logits with ties (every 4th row repeats its best value at the last class) and their labels. */
function batch(seed: number): { values: number[]; labels: number[] } {
  const values: number[] = [];
  const labels: number[] = [];
  for (let r = 0; r < rows; r++) {
    const best = (r * 7 + seed) % classes;
    for (let j = 0; j < classes; j++) values.push(j === best || (r % 4 === 0 && j === classes - 1) ? 3 : Math.sin(r * 31 + j + seed));
    labels.push(r % 3 === 0 ? (best + 2) % classes : best);
  }
  return { values, labels };
}

/** The counts computed here: the first maximum on ties, as torch.argmax. */
function reference(batches: { values: number[]; labels: number[] }[]): number[][] {
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const { values, labels } of batches) {
    labels.forEach((label, r) => {
      const row = values.slice(r * classes, (r + 1) * classes);
      counts[label]![row.indexOf(Math.max(...row))]!++;
    });
  }
  return counts;
}

describe('confusion counts (kernels/confusion.ts)', () => {
  it('adds each row to (its label, its arg-max), across batches, and agrees with accuracy on the diagonal', async () => {
    const batches = [batch(0), batch(3)];
    const counts = new ConfusionCounts(ctx, classes);
    let correct = 0;
    for (const { values, labels } of batches) {
      const logits = tensor(values, [rows, classes], { ctx });
      const labelTensor = Tensor.fromData(ctx, labels, [rows], 'int32');
      counts.add(logits, labelTensor);
      correct += await accuracy(logits, labelTensor).item();
    }
    const read = await counts.read();
    expect(read).toEqual(reference(batches));
    expect(read.reduce((sum, row, i) => sum + row[i]!, 0)).toBe(correct);
    counts.dispose();
  });

  it('counts a label outside the classes nowhere, and refuses counts of the wrong shape', async () => {
    const counts = Tensor.zeros(ctx, [2, 2], 'uint32');
    runConfusionInto(counts, tensor([1, 0, 0, 1, 5, 2], [3, 2], { ctx }), Tensor.fromData(ctx, [0, 7, -1], [3], 'int32'));
    expect(Array.from(await counts.read())).toEqual([1, 0, 0, 0]);
    expect(() => runConfusionInto(Tensor.zeros(ctx, [3, 3], 'uint32'), tensor([1, 0], [1, 2], { ctx }), Tensor.fromData(ctx, [0], [1], 'int32'))).toThrow(/uint32 \[2, 2\]/);
  });
});

import { Tensor } from '../autograd/tensor.js';
import { keep, tidy } from '../autograd/scope.js';
import { noGrad } from '../autograd/graph.js';
import { add, scale, zeros } from '../ops/index.js';
import type { GpuContext } from '../runtime/context.js';
import { runConfusionInto } from '../kernels/confusion.js';

/**
 * An epoch's loss and accuracy summed on the GPU: a step adds its batch's figures to two
 * one-element tensors, and nothing is read back until the epoch ends (or a progress line asks).
 */
export class EpochMetrics {
  private lossSum: Tensor;
  private correctSum: Tensor;
  samples = 0;

  constructor(private readonly ctx: GpuContext) {
    this.lossSum = keep(zeros([1], { ctx }));
    this.correctSum = keep(zeros([1], { ctx }));
  }

  /** Adds a batch: `meanLoss` is the batch's mean loss, `correct` its number of right answers. */
  add(meanLoss: Tensor, correct: Tensor, batchSize: number): void {
    noGrad(() =>
      tidy(() => {
        const loss = keep(add(this.lossSum, scale(meanLoss, batchSize)));
        const right = keep(add(this.correctSum, correct));
        this.lossSum.dispose();
        this.correctSum.dispose();
        this.lossSum = loss;
        this.correctSum = right;
      }),
    );
    this.samples += batchSize;
  }

  /** Reads the sums back (one small readback). */
  async read(): Promise<{ loss: number; accuracy: number; samples: number }> {
    const [loss, correct] = await Promise.all([this.lossSum.item(), this.correctSum.item()]);
    const n = Math.max(1, this.samples);
    return { loss: loss / n, accuracy: correct / n, samples: this.samples };
  }

  /** Restores sums saved mid-epoch (checkpoint resume). */
  restore(lossSum: number, correct: number, samples: number): void {
    this.dispose();
    this.lossSum = keep(Tensor.fromData(this.ctx, [lossSum], [1], 'float32'));
    this.correctSum = keep(Tensor.fromData(this.ctx, [correct], [1], 'float32'));
    this.samples = samples;
  }

  async sums(): Promise<{ lossSum: number; correct: number; samples: number }> {
    return { lossSum: await this.lossSum.item(), correct: await this.correctSum.item(), samples: this.samples };
  }

  dispose(): void {
    this.lossSum.dispose();
    this.correctSum.dispose();
  }
}

/**
 * How often each class was predicted as each other over an evaluation: counts [true class,
 * predicted class] summed on the GPU batch by batch (kernels/confusion.ts), read back once.
 */
export class ConfusionCounts {
  private readonly counts: Tensor;

  constructor(
    ctx: GpuContext,
    readonly classes: number,
  ) {
    this.counts = keep(Tensor.zeros(ctx, [classes, classes], 'uint32', 'confusion counts'));
  }

  /** Adds a batch: logits [N, classes], labels int32 [N]. */
  add(logits: Tensor, labels: Tensor): void {
    runConfusionInto(this.counts, logits, labels);
  }

  /** The counts, a row per true class, a column per predicted class. */
  async read(): Promise<number[][]> {
    const flat = Array.from(await this.counts.read());
    return Array.from({ length: this.classes }, (_, row) => flat.slice(row * this.classes, (row + 1) * this.classes));
  }

  dispose(): void {
    this.counts.dispose();
  }
}

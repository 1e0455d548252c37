/**
 * The training pass of a frozen base without augmentation, computed once per phase.
 *
 * With augmentation off (`train --no-augment`: every training image takes the validation's Resize
 * + CenterCrop, as in Keras's "feature extraction without data augmentation"), the frozen base
 * sees each training image the same way every epoch. So the phase's first epoch keeps each
 * sample's output of the frozen leading layers, one row per sample of a table on the GPU, and the
 * later epochs assemble every shuffled batch from the table (`gatherRows`) and run only the layers
 * after them: no decoding, no upload, no transform, no base forward. A step is then the head's.
 *
 * Unlike validation's cache (feature-cache.ts), the rows are kept per sample, not per batch: each
 * epoch shuffles anew. The layers are those of `frozenSplit(model, 'train')`, which also stops at
 * a dropout (random in training mode): VGG16 keeps the 4096 outputs of `classifier.1`. The kept
 * values are what the frozen layers computed in the first epoch, in training mode, so the later
 * epochs give the same figures and weights as without the cache, bit for bit.
 */
import { Tensor } from '../autograd/tensor.js';
import { keep } from '../autograd/scope.js';
import { frozenGeneration } from '../autograd/frozen-generation.js';
import { chain } from '../nn/sequential.js';
import { gatherRows, scatterRows } from '../kernels/gather-rows.js';
import type { GpuContext } from '../runtime/context.js';
import type { FeatureCacheEvent, FrozenSplit } from './feature-cache.js';

export class SampleFeatureCache {
  /** [samples, ...the frozen layers' output per image], allocated at the first batch. */
  private table: Tensor | null = null;
  /** Each sample's label, and whether its row was written (a file that failed to decode is not). */
  private readonly labels: Int32Array;
  private readonly written: Uint8Array;
  private state: 'filling' | 'complete' | 'too-large' = 'filling';
  private projectedBytes = 0;
  private reported = false;
  private readonly generation = frozenGeneration();

  constructor(
    private readonly ctx: GpuContext,
    readonly split: FrozenSplit,
    private readonly maxBytes: number,
    private readonly samples: number,
  ) {
    this.labels = new Int32Array(samples);
    this.written = new Uint8Array(samples);
  }

  /** Is the epoch under way keeping rows (not yet complete, not over the budget)? */
  get filling(): boolean {
    return this.state === 'filling';
  }

  /** Has a whole epoch been kept, and does it still hold? */
  get ready(): boolean {
    return this.state === 'complete' && this.table !== null && this.stillValid;
  }

  /** False once a layer was frozen or unfrozen, or weights were loaded, since the cache began. */
  get stillValid(): boolean {
    return frozenGeneration() === this.generation;
  }

  /** GPU memory the table holds. */
  get bytes(): number {
    return this.table?.byteSize ?? 0;
  }

  /**
   * A training batch's logits through the whole model, in the epoch that fills the cache: writes
   * the frozen layers' output into the samples' rows while the table fits the budget.
   */
  forward(images: Tensor, sampleIndices: Uint32Array, labels: Int32Array): Tensor {
    const features = chain(images, this.split.frozen);
    if (this.state === 'filling') {
      const perImage = features.shape.slice(1);
      const projected = (features.byteSize / sampleIndices.length) * this.samples;
      if (!this.table && projected > Math.min(this.maxBytes, this.ctx.maxBufferBytes)) this.giveUp(projected);
      else {
        this.table ??= keep(Tensor.empty(this.ctx, [this.samples, ...perImage], 'float32', 'training feature cache'));
        scatterRows(this.table, Tensor.fromData(this.ctx, sampleIndices, [sampleIndices.length], 'int32', 'sample indices'), features);
        sampleIndices.forEach((sample, i) => {
          this.labels[sample] = labels[i]!;
          this.written[sample] = 1;
        });
      }
    }
    return chain(features, this.split.rest);
  }

  /** The epoch that filled it has ended, every sample visited: what it kept, or why nothing (once). */
  complete(): FeatureCacheEvent | null {
    if (this.reported) return null;
    this.reported = true;
    if (this.state === 'too-large') {
      const maxBytes = Math.min(this.maxBytes, this.ctx.maxBufferBytes); // a table is one buffer
      return { kind: 'too-large', pass: 'training', lastFrozen: this.split.lastFrozen, bytes: this.projectedBytes, maxBytes, images: this.samples };
    }
    this.state = 'complete';
    if (!this.table) return null; // no training image decoded: nothing to say
    const images = this.written.reduce((n, w) => n + w, 0);
    return { kind: 'kept', pass: 'training', lastFrozen: this.split.lastFrozen, images, bytes: this.table.byteSize, perImage: this.table.shape.slice(1) };
  }

  /**
   * An epoch's batches of sample indices, as the loader would give them from `order`: the samples
   * kept (the files that decoded), `batchSize` at a time, the last one short. (A loader that drops
   * its short last batch never runs those samples through the base: the trainer keeps no cache for it.)
   */
  *batches(order: Uint32Array, batchSize: number): Generator<Uint32Array> {
    const kept = order.filter((sample) => this.written[sample] === 1);
    for (let start = 0; start < kept.length; start += batchSize) yield kept.subarray(start, start + batchSize);
  }

  /** A batch's features from the table and its labels (inside the caller's scope). */
  replay(sampleIndices: Uint32Array): { features: Tensor; labels: Tensor } {
    const n = sampleIndices.length;
    const features = gatherRows(this.table!, Tensor.fromData(this.ctx, sampleIndices, [n], 'int32', 'sample indices'));
    const labels = Tensor.fromData(this.ctx, Int32Array.from(sampleIndices, (sample) => this.labels[sample]!), [n], 'int32', 'labels');
    return { features, labels };
  }

  /** Logits from kept features: the layers after the frozen ones. */
  logitsOf(features: Tensor): Tensor {
    return chain(features, this.split.rest);
  }

  dispose(): void {
    this.table?.dispose();
    this.table = null;
  }

  private giveUp(projectedBytes: number): void {
    this.state = 'too-large';
    this.projectedBytes = projectedBytes;
  }
}

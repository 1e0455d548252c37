/**
 * The batch loader: an epoch's samples in seeded order, decoded a few at a time ahead of the
 * consumer (the next batch decodes while the current one trains), bad files skipped and the batch
 * filled from the files after them. The same samples, seed and epoch give the same batches.
 */
import { BadFileLog, BadImageError } from './bad-file.js';
import { mapAhead } from './concurrency.js';
import type { ImageDecoder } from './decode-contract.js';
import type { Sample } from './dataset.js';
import { packBatch, type ImageBatch, type LabeledImage } from './pack-batch.js';
import { seededPermutation } from './permutation.js';
import { randomStream } from './random.js';
import { OptionRangeError } from '../runtime/errors.js';

export interface LoaderOptions {
  batchSize: number;
  /** Seeds the order of each epoch; the order of epoch e uses stream ('shuffle', e). */
  seed: number;
  /** Validation keeps the listing order. */
  shuffle?: boolean;
  /** Drop a last batch smaller than batchSize (PyTorch's drop_last). */
  dropLast?: boolean;
  /** Decodes running at once. */
  concurrency?: number;
  /** Whole batches decoded ahead of the one being consumed. */
  prefetchBatches?: number;
  /** Where skipped files are recorded; a new log when absent. */
  badFiles?: BadFileLog;
}

export class BatchLoader {
  readonly badFiles: BadFileLog;
  readonly batchSize: number;
  private readonly readAhead: number;
  private readonly concurrency: number;

  constructor(
    readonly samples: readonly Sample[],
    private readonly decode: ImageDecoder,
    private readonly options: LoaderOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new OptionRangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.batchSize = options.batchSize;
    this.concurrency = options.concurrency ?? 4;
    this.readAhead = Math.max(this.concurrency, this.batchSize * (options.prefetchBatches ?? 1));
    this.badFiles = options.badFiles ?? new BadFileLog();
  }

  /** Is a last batch smaller than batchSize dropped? */
  get dropLast(): boolean {
    return this.options.dropLast ?? false;
  }

  /** The order in which epoch `epoch` visits the samples. */
  order(epoch: number): Uint32Array {
    const n = this.samples.length;
    if (this.options.shuffle === false) return Uint32Array.from({ length: n }, (_, i) => i);
    return seededPermutation(n, this.options.seed, randomStream('shuffle', epoch));
  }

  async *epoch(epoch: number): AsyncGenerator<ImageBatch> {
    const decoded = mapAhead(this.order(epoch), (index) => this.decodeSample(index), {
      concurrency: this.concurrency,
      readAhead: this.readAhead,
    });
    let batch: LabeledImage[] = [];
    for await (const result of decoded) {
      if (!result.ok) {
        if (!(result.error instanceof BadImageError)) throw result.error;
        this.badFiles.add(result.error.report);
        continue;
      }
      batch.push(result.value);
      if (batch.length === this.batchSize) {
        yield packBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0 && !this.options.dropLast) yield packBatch(batch);
  }

  private async decodeSample(sampleIndex: number): Promise<LabeledImage> {
    const { path, label } = this.samples[sampleIndex]!;
    return { ...(await this.decode(path)), label, path, sampleIndex };
  }
}

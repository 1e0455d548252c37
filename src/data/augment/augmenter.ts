/**
 * Augments a packed batch of decoded images on the GPU: one upload of the uint8 bytes and of a
 * small per-image table, an optional grayscale pre-pass (only when contrast jitter is on), and
 * one fused kernel that writes the model's float32 NCHW input.
 */
import { Tensor } from '../../autograd/tensor.js';
import { keep } from '../../autograd/scope.js';
import { BindingLimitError } from '../../runtime/errors.js';
import type { GpuContext } from '../../runtime/context.js';
import { launch } from '../../kernels/launch.js';
import { IMAGE_TABLE_STRIDE, type ImageBatch } from '../pack-batch.js';
import { resolveOptions, type AugmenterOptions, type ResolvedOptions } from './options.js';
import { augmentDraws, sampleParams, type SampleParams } from './params.js';
import { augmentKernel, encodeSamples, graySumsKernel, GRAY_PARTS, kernelVariant, SAMPLE_BYTES, TILE } from './kernel.js';

export interface AugmentResult {
  /** float32 [N, 3, outHeight, outWidth], normalised. The caller owns it: dispose it when done. */
  images: Tensor;
  /** What was done to each image, in batch order. */
  params: SampleParams[];
}

export interface AugmentKey {
  /** The run's seed (u32); with the epoch and each image's sample index it fixes every draw. */
  seed: number;
  epoch: number;
}

/** The images [first, first + count) of a batch, and the buffer ranges one dispatch binds for them. */
interface Chunk {
  first: number;
  count: number;
  /** u32 words of the packed bytes: the bound range starts at an aligned byte `byteBase`. */
  pixels: { offset: number; count: number };
  byteBase: number;
  /** Floats of the output; the chunk's first image starts `skip` floats into the bound range. */
  out: { offset: number; count: number; skip: number };
}

export class Augmenter {
  readonly options: ResolvedOptions;
  // Kept across batches and grown only when a batch needs more: no buffer per batch once warm.
  private pixels: Tensor | null = null;
  private samples: Tensor | null = null;
  private graySums: Tensor | null = null;

  constructor(
    readonly ctx: GpuContext,
    options: AugmenterOptions,
  ) {
    this.options = resolveOptions(options);
  }

  get isTrain(): boolean {
    return this.options.train !== null;
  }

  /** Each image's parameters (CPU only). Validation ignores the key. */
  params(batch: ImageBatch, key: AugmentKey = { seed: 0, epoch: 0 }): SampleParams[] {
    return Array.from({ length: batch.size }, (_, i) => {
      const [, width, height] = batch.table.subarray(i * IMAGE_TABLE_STRIDE, i * IMAGE_TABLE_STRIDE + 3);
      const sampleIndex = batch.sampleIndices[i]!;
      return sampleParams(this.options, { height: height!, width: width! }, sampleIndex, augmentDraws(key.seed, key.epoch, sampleIndex));
    });
  }

  /** Uploads the batch and records its augmentation; nothing waits for the GPU. */
  apply(batch: ImageBatch, key?: AugmentKey): AugmentResult {
    if (this.isTrain && !key) throw new Error('Augmenter.apply: a training transform needs { seed, epoch }');
    return this.applyParams(batch, this.params(batch, key));
  }

  /** Applies given parameters (recorded ones, or fixed ones in tests), one per image of the batch. */
  applyParams(batch: ImageBatch, params: readonly SampleParams[]): AugmentResult {
    if (params.length !== batch.size) throw new Error(`Augmenter: ${params.length} parameter sets for a batch of ${batch.size}`);
    const { ctx } = this;
    const { outHeight, outWidth } = this.options;
    const images = Tensor.empty(ctx, [batch.size, 3, outHeight, outWidth], 'float32', 'augmented');
    if (batch.size === 0) return { images, params: [...params] };

    this.pixels = this.reserve(this.pixels, batch.data.byteLength, 'augment.pixels');
    this.samples = this.reserve(this.samples, batch.size * SAMPLE_BYTES, 'augment.samples');
    this.graySums = this.reserve(this.graySums, batch.size * GRAY_PARTS * 4, 'augment.gray_sums');
    ctx.recorder.write(this.pixels.buffer, 0, batch.data);

    const chunks = this.planChunks(batch);
    const byteOffsets = new Uint32Array(batch.size);
    const byteBases = new Uint32Array(batch.size);
    for (const chunk of chunks) {
      for (let i = chunk.first; i < chunk.first + chunk.count; i++) {
        byteOffsets[i] = batch.table[i * IMAGE_TABLE_STRIDE]!;
        byteBases[i] = chunk.byteBase;
      }
    }
    ctx.recorder.write(this.samples.buffer, 0, encodeSamples(params, byteOffsets, byteBases, { height: outHeight, width: outWidth }));

    const fill = this.options.train?.rotationFill ?? [0, 0, 0];
    const fused = kernelVariant(augmentKernel, params);
    const graySums = kernelVariant(graySumsKernel, params);
    const size = { out_width: outWidth, out_height: outHeight };
    for (const chunk of chunks) {
      const pixels = { tensor: this.pixels, ...chunk.pixels };
      const first_image = chunk.first;
      const range = params.slice(chunk.first, chunk.first + chunk.count);
      if (range.some((p) => p.color.some((c) => c.op === 'contrast'))) {
        launch(ctx, graySums, {
          buffers: { pixels, samples: this.samples, gray_sums: this.graySums },
          uniforms: { ...size, first_image, fill },
          workgroups: [GRAY_PARTS, chunk.count, 1],
        });
      }
      launch(ctx, fused, {
        buffers: { pixels, samples: this.samples, gray_sums: this.graySums, images: { tensor: images, offset: chunk.out.offset, count: chunk.out.count } },
        uniforms: { ...size, first_image, out_skip: chunk.out.skip, fill, channel_mean: this.options.mean, channel_std: this.options.std },
        workgroups: [Math.ceil(outWidth / TILE), Math.ceil(outHeight / TILE), chunk.count],
      });
    }
    return { images, params: [...params] };
  }

  /** Returns the kept buffers to the pool. */
  dispose(): void {
    for (const t of [this.pixels, this.samples, this.graySums]) t?.dispose();
    this.pixels = this.samples = this.graySums = null;
  }

  private reserve(current: Tensor | null, bytes: number, name: string): Tensor {
    if (current && current.byteSize >= bytes) return current;
    current?.dispose();
    // A quarter more than asked, so that batches of slightly larger images do not regrow it.
    const words = Math.ceil((bytes * 1.25) / 4);
    return keep(Tensor.empty(this.ctx, [words], 'uint32', name));
  }

  /**
   * Splits the batch so that each dispatch's pixel and output ranges fit one binding
   * (maxStorageBufferBindingSize; 128 MiB on lavapipe holds about 230 images of 500x375)
   * and start on offsets the adapter accepts. One chunk in the common case.
   */
  private planChunks(batch: ImageBatch): Chunk[] {
    const align = this.ctx.limits.minStorageBufferOffsetAlignment;
    const limit = this.ctx.maxBindingBytes - 16; // Tensor.subrange rounds ranges up to 16 bytes
    const maxImages = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    const imageFloats = 3 * this.options.outHeight * this.options.outWidth;
    const start = (i: number): number => batch.table[i * IMAGE_TABLE_STRIDE]!;
    const end = (i: number): number => start(i) + batch.table[i * IMAGE_TABLE_STRIDE + 1]! * batch.table[i * IMAGE_TABLE_STRIDE + 2]! * 3;
    const floorTo = (n: number, step: number): number => Math.floor(n / step) * step;
    const chunks: Chunk[] = [];
    for (let first = 0; first < batch.size; ) {
      const byteBase = floorTo(start(first), align);
      const outBase = floorTo(first * imageFloats * 4, align) / 4;
      const pixelBytes = (last: number): number => Math.ceil(end(last) / 4) * 4 - byteBase;
      const outBytes = (last: number): number => ((last + 1) * imageFloats - outBase) * 4;
      if (pixelBytes(first) > limit) throw new BindingLimitError(`image ${first} of the batch`, pixelBytes(first), limit, 'maxStorageBufferBindingSize', 'Augmenter');
      if (outBytes(first) > limit) throw new BindingLimitError('one augmented image', outBytes(first), limit, 'maxStorageBufferBindingSize', 'Augmenter');
      let last = first;
      while (last + 1 < batch.size && last + 1 - first < maxImages && pixelBytes(last + 1) <= limit && outBytes(last + 1) <= limit) last++;
      chunks.push({
        first,
        count: last + 1 - first,
        pixels: { offset: byteBase / 4, count: pixelBytes(last) / 4 },
        byteBase,
        out: { offset: outBase, count: (last + 1) * imageFloats - outBase, skip: first * imageFloats - outBase },
      });
      first = last + 1;
    }
    return chunks;
  }
}

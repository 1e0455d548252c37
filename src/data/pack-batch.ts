/**
 * A batch of images of different sizes packed into one buffer, so that it reaches the GPU in one
 * upload: every image starts on a 4-byte boundary (a shader reads the buffer as array<u32>), and a
 * table says where each one is and what it is.
 */
import type { DecodedImage } from './decode-contract.js';

/** u32 per image in `ImageBatch.table`: byte offset, width, height, label (one vec4<u32>). */
export const IMAGE_TABLE_STRIDE = 4;

export interface LabeledImage extends DecodedImage {
  label: number;
  path: string;
  /** Its index in the loader's sample list: the per-sample key for random draws. */
  sampleIndex: number;
}

export interface ImageBatch {
  /** Number of images. */
  size: number;
  /** The images' RGB bytes (HWC), each at its table offset; length a multiple of 4. */
  data: Uint8Array;
  /** [byteOffset, width, height, label] per image; byteOffset is a multiple of 4. */
  table: Uint32Array;
  sampleIndices: Uint32Array;
  paths: string[];
}

const alignTo4 = (n: number): number => (n + 3) & ~3;

export function packBatch(images: readonly LabeledImage[]): ImageBatch {
  const table = new Uint32Array(images.length * IMAGE_TABLE_STRIDE);
  let byteLength = 0;
  images.forEach((image, i) => {
    table.set([byteLength, image.width, image.height, image.label], i * IMAGE_TABLE_STRIDE);
    byteLength = alignTo4(byteLength + image.pixels.length);
  });
  const data = new Uint8Array(byteLength);
  images.forEach((image, i) => data.set(image.pixels, table[i * IMAGE_TABLE_STRIDE]!));
  return {
    size: images.length,
    data,
    table,
    sampleIndices: Uint32Array.from(images, (image) => image.sampleIndex),
    paths: images.map((image) => image.path),
  };
}

/** The batch's class labels, in batch order (what crossEntropy takes, or Tensor.fromData as int32). */
export function labelsOf(batch: ImageBatch): Int32Array {
  return Int32Array.from({ length: batch.size }, (_, i) => batch.table[i * IMAGE_TABLE_STRIDE + 3]!);
}

/** Image i of a batch, its pixels a view into the batch's buffer. */
export function imageInBatch(batch: ImageBatch, i: number): LabeledImage {
  if (!(i >= 0 && i < batch.size)) throw new RangeError(`image ${i} of a batch of ${batch.size}`);
  const [byteOffset, width, height, label] = batch.table.subarray(i * IMAGE_TABLE_STRIDE, (i + 1) * IMAGE_TABLE_STRIDE);
  return {
    pixels: batch.data.subarray(byteOffset!, byteOffset! + width! * height! * 3),
    width: width!,
    height: height!,
    label: label!,
    path: batch.paths[i]!,
    sampleIndex: batch.sampleIndices[i]!,
  };
}

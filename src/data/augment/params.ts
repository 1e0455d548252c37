/**
 * Per-sample augmentation parameters, drawn on the CPU from the counter-based generator so that
 * (seed, epoch, sample index) always gives the same parameters, and returned with the batch so
 * that they can be inspected. The sampling follows torchvision 0.14's `get_params` line by line.
 */
import { randomBelow, randomStream, uniformFloat } from '../random.js';
import type { Range, ResolvedOptions, ResolvedTrain } from './options.js';

/** ColorJitter's operations; the index is torchvision's `fn_idx` (and the kernel's op id). */
export const COLOR_OPS = ['brightness', 'contrast', 'saturation', 'hue'] as const;
export type ColorOp = (typeof COLOR_OPS)[number];

/** A box in pixels: rows [top, top + height), columns [left, left + width). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

export type Geometry =
  /** Training: RandomResizedCrop's box in the source, resized to the output size. */
  | { kind: 'resized-crop'; crop: CropBox }
  /** Validation: the source resized to `resized`, then CenterCrop's box in the resized image. */
  | { kind: 'resize-center-crop'; resized: { height: number; width: number }; crop: CropBox };

export interface SampleParams {
  /** The sample's index in its dataset: the key of its random draws. */
  sampleIndex: number;
  source: { height: number; width: number };
  geometry: Geometry;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  /** Degrees, counter-clockwise (torchvision's sign); 0: not rotated. */
  angle: number;
  /** ColorJitter's enabled operations in the order they are applied, with their factors. */
  color: { op: ColorOp; factor: number }[];
}

/** Where one sample's random numbers come from (injectable, to test against torchvision). */
export interface Draws {
  /** Uniform in [0, 1), slot `slot`. */
  uniform(slot: number): number;
  /** Uniform integer in [0, bound), slot `slot` (a separate set of slots). */
  below(slot: number, bound: number): number;
}

/**
 * Fixed slots, so that turning one transform on or off never changes another one's draws.
 * Uniform slots are `uniformFloat` draws (draw d uses block floor(d / 2), so 0..26 use blocks
 * 0..13); integer slots are `randomBelow` blocks from 16 on.
 */
const UNIFORM_SLOT = { cropAttempts: 0, horizontalFlip: 20, verticalFlip: 21, angle: 22, colorFactors: 23 } as const;
const BELOW_SLOT = { cropTop: 0, cropLeft: 1, colorOrder: 2 } as const;
const FIRST_BELOW_BLOCK = 16;

/** The draws of sample `sampleIndex` in epoch `epoch`: stream ('augment', epoch) of `seed`. */
export function augmentDraws(seed: number, epoch: number, sampleIndex: number): Draws {
  const stream = randomStream('augment', epoch);
  return {
    uniform: (slot) => uniformFloat(seed, stream, sampleIndex, slot),
    below: (slot, bound) => randomBelow(seed, stream, sampleIndex, bound, FIRST_BELOW_BLOCK + slot),
  };
}

/** All parameters of one sample: random for training, fixed for validation. */
export function sampleParams(
  options: ResolvedOptions,
  source: { height: number; width: number },
  sampleIndex: number,
  draws: Draws,
): SampleParams {
  const train = options.train;
  if (!train) {
    return { sampleIndex, source, geometry: resizeCenterCrop(source, options), horizontalFlip: false, verticalFlip: false, angle: 0, color: [] };
  }
  const flip = (slot: number, p: number): boolean => p > 0 && draws.uniform(slot) < p;
  return {
    sampleIndex,
    source,
    geometry: { kind: 'resized-crop', crop: randomResizedCrop(source.width, source.height, train.scale, train.ratio, draws) },
    // RandomHorizontalFlip: torch.rand(1) < p.
    horizontalFlip: flip(UNIFORM_SLOT.horizontalFlip, train.horizontalFlip),
    verticalFlip: flip(UNIFORM_SLOT.verticalFlip, train.verticalFlip),
    angle: train.rotation ? uniformIn(train.rotation, draws.uniform(UNIFORM_SLOT.angle)) : 0,
    color: colorJitter(train, draws),
  };
}

/**
 * torchvision's RandomResizedCrop.get_params: ten tries at a box of random area (a fraction of
 * the image's, uniform in `scale`) and aspect ratio (log-uniform in `ratio`); then a centre crop
 * of the whole image with its ratio clamped into `ratio`. torch draws these uniforms as float32
 * tensors (`torch.empty(1).uniform_(a, b)`) and the log-ratio bounds as a float32 tensor:
 * Math.fround reproduces that rounding, so w and h round as torchvision's do.
 */
export function randomResizedCrop(width: number, height: number, scale: Range, ratio: Range, draws: Draws): CropBox {
  const area = height * width;
  const logRatio = [Math.fround(Math.log(Math.fround(ratio[0]))), Math.fround(Math.log(Math.fround(ratio[1])))] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * Math.fround(uniformIn(scale, draws.uniform(UNIFORM_SLOT.cropAttempts + 2 * attempt)));
    const aspectRatio = Math.fround(Math.exp(Math.fround(uniformIn(logRatio, draws.uniform(UNIFORM_SLOT.cropAttempts + 2 * attempt + 1)))));
    const w = roundHalfEven(Math.sqrt(targetArea * aspectRatio));
    const h = roundHalfEven(Math.sqrt(targetArea / aspectRatio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      // torch.randint(0, height - h + 1), then torch.randint(0, width - w + 1).
      const top = draws.below(BELOW_SLOT.cropTop, height - h + 1);
      const left = draws.below(BELOW_SLOT.cropLeft, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback to a central crop, its aspect ratio clamped into `ratio`.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * torchvision's ColorJitter.get_params: a random order of the four operations (torch.randperm(4),
 * here a Fisher-Yates shuffle), then one factor for each enabled one. Disabled operations are
 * skipped wherever the permutation put them, as ColorJitter.forward skips a None factor.
 */
function colorJitter(train: ResolvedTrain, draws: Draws): SampleParams['color'] {
  const ranges = [train.brightness, train.contrast, train.saturation, train.hue];
  if (ranges.every((r) => r === null)) return [];
  const order = [0, 1, 2, 3];
  for (let i = 3; i > 0; i--) {
    const j = draws.below(BELOW_SLOT.colorOrder + (3 - i), i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const color: SampleParams['color'] = [];
  for (const id of order) {
    const range = ranges[id];
    if (range) color.push({ op: COLOR_OPS[id]!, factor: uniformIn(range, draws.uniform(UNIFORM_SLOT.colorFactors + id)) });
  }
  return color;
}

/**
 * Resize(size) (shorter side; the longer one truncated as torchvision's
 * `_compute_resized_output_size` does) then CenterCrop(output): its corner is
 * int(round((resized - output) / 2)), Python's round, which rounds halves to even.
 */
export function resizeCenterCrop(source: { height: number; width: number }, options: ResolvedOptions): Geometry {
  const resized = resizedSize(source.height, source.width, options.resize);
  if (resized.height < options.outHeight || resized.width < options.outWidth) {
    throw new RangeError(
      `Resize(${options.resize}) makes a ${source.width}x${source.height} image ${resized.width}x${resized.height}, ` +
        `smaller than the ${options.outWidth}x${options.outHeight} centre crop (torchvision would pad it)`,
    );
  }
  const crop: CropBox = {
    top: roundHalfEven((resized.height - options.outHeight) / 2),
    left: roundHalfEven((resized.width - options.outWidth) / 2),
    height: options.outHeight,
    width: options.outWidth,
  };
  return { kind: 'resize-center-crop', resized, crop };
}

export function resizedSize(height: number, width: number, size: number): { height: number; width: number } {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? { height: newLong, width: size } : { height: size, width: newLong };
}

/** torch's uniform_(a, b): a + (b - a) * u. */
function uniformIn(range: Range, u: number): number {
  return range[0] + (range[1] - range[0]) * u;
}

/** Python 3's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return fraction < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

import { OptionRangeError } from '../../runtime/errors.js';

/**
 * What an Augmenter does, in torchvision's words, and the checks torchvision makes on it.
 *
 * Training: RandomResizedCrop(outputSize, scale, ratio) -> RandomHorizontalFlip(p)
 * -> RandomVerticalFlip(p) -> RandomRotation(degrees, BILINEAR, fill) -> ColorJitter(brightness,
 * contrast, saturation, hue) -> ToTensor -> Normalize(mean, std).
 * Validation: Resize(resize) -> CenterCrop(outputSize) -> ToTensor -> Normalize(mean, std).
 *
 * Semantics are torchvision 0.14's on a float tensor image / 255 (its tensor path: bilinear with
 * antialias=False, half-pixel centres, align_corners=False; rotate through grid_sample with the
 * fill mask; ColorJitter's ops in a random order per sample, each clamping to [0, 1]). No value is
 * rounded to uint8 between steps; PIL images would be, and PIL's resize antialiases.
 */

export type Range = readonly [number, number];
export type Rgb = readonly [number, number, number];

export interface ColorJitterOptions {
  /** Factor drawn from [max(0, 1 - b), 1 + b], or the given range. */
  brightness?: number | Range;
  contrast?: number | Range;
  saturation?: number | Range;
  /** Hue shift drawn from [-h, h] (h <= 0.5), or the given range inside [-0.5, 0.5]. */
  hue?: number | Range;
}

export interface TrainTransformOptions {
  /** RandomResizedCrop's area fraction range (torchvision default (0.08, 1.0)). */
  scale?: Range;
  /** RandomResizedCrop's aspect ratio range, drawn log-uniformly (default (3/4, 4/3)). */
  ratio?: Range;
  /** RandomHorizontalFlip's probability (default 0.5, as in the notebook; 0 disables it). */
  horizontalFlip?: number;
  /** RandomVerticalFlip's probability (default 0). */
  verticalFlip?: number;
  /** RandomRotation's degrees: d means [-d, d] (default 0: no rotation). Bilinear. */
  rotation?: number | Range;
  /** Value of pixels the rotation brings in from outside the image, in uint8 units 0..255 (default 0). */
  rotationFill?: number | Rgb;
  colorJitter?: ColorJitterOptions;
}

export interface NormalizeOptions {
  mean: number | Rgb;
  std: number | Rgb;
}

export interface AugmenterOptions {
  /** Output size, `size` or `[height, width]` as torchvision takes it. */
  outputSize: number | readonly [number, number];
  /** The random training transform; absent: the validation transform. */
  train?: TrainTransformOptions;
  /** Validation only: Resize's shorter side before the centre crop (default 256). */
  resize?: number;
  /** Default: the notebook's mean 0.5, std 0.25 for every channel. */
  normalize?: NormalizeOptions;
}

/** The notebook's normalisation (references.md): mean 0.5, std 0.25 per channel. */
export const NOTEBOOK_NORMALIZE: NormalizeOptions = { mean: 0.5, std: 0.25 };

/** The options with every default filled in and every range checked. */
export interface ResolvedOptions {
  outHeight: number;
  outWidth: number;
  train: ResolvedTrain | null;
  resize: number;
  mean: Rgb;
  std: Rgb;
}

export interface ResolvedTrain {
  scale: Range;
  ratio: Range;
  horizontalFlip: number;
  verticalFlip: number;
  /** null: no rotation. */
  rotation: Range | null;
  /** In [0, 1] image units. */
  rotationFill: Rgb;
  /** Factor ranges; null: that colour op is off (as torchvision's ColorJitter sets them to None). */
  brightness: Range | null;
  contrast: Range | null;
  saturation: Range | null;
  hue: Range | null;
}

export function resolveOptions(options: AugmenterOptions): ResolvedOptions {
  const [outHeight, outWidth] = typeof options.outputSize === 'number' ? [options.outputSize, options.outputSize] : options.outputSize;
  for (const side of [outHeight, outWidth]) positiveInteger('outputSize', side);
  const resize = options.resize ?? 256;
  positiveInteger('resize', resize);
  if (!options.train && resize < Math.min(outHeight, outWidth)) {
    // CenterCrop would pad every resized image; a validation transform never wants that.
    throw new OptionRangeError(`resize (${resize}) must be at least the output size (${outHeight}x${outWidth})`);
  }
  const normalize = options.normalize ?? NOTEBOOK_NORMALIZE;
  const std = rgb('normalize.std', normalize.std);
  if (std.some((s) => !(s > 0))) throw new OptionRangeError(`normalize.std must be positive, got ${std.join(', ')}`);
  return {
    outHeight,
    outWidth,
    train: options.train ? resolveTrain(options.train) : null,
    resize,
    mean: rgb('normalize.mean', normalize.mean),
    std,
  };
}

function resolveTrain(train: TrainTransformOptions): ResolvedTrain {
  const scale = orderedRange('scale', train.scale ?? [0.08, 1.0]);
  const ratio = orderedRange('ratio', train.ratio ?? [3 / 4, 4 / 3]);
  if (!(scale[0] > 0 && scale[1] <= 1)) throw new OptionRangeError(`scale must lie in (0, 1], got [${scale.join(', ')}]`);
  if (!(ratio[0] > 0)) throw new OptionRangeError(`ratio must be positive, got [${ratio.join(', ')}]`);
  const jitter = train.colorJitter ?? {};
  const rotation = train.rotation === undefined ? null : centeredRange('rotation', train.rotation, Infinity);
  const fill = rgb('rotationFill', train.rotationFill ?? 0);
  if (fill.some((f) => f < 0 || f > 255)) throw new OptionRangeError(`rotationFill must lie in [0, 255], got ${fill.join(', ')}`);
  return {
    scale,
    ratio,
    horizontalFlip: probability('horizontalFlip', train.horizontalFlip ?? 0.5),
    verticalFlip: probability('verticalFlip', train.verticalFlip ?? 0),
    rotation: rotation && rotation[0] === 0 && rotation[1] === 0 ? null : rotation,
    rotationFill: fill.map((f) => f / 255) as unknown as Rgb,
    brightness: factorRange('brightness', jitter.brightness),
    contrast: factorRange('contrast', jitter.contrast),
    saturation: factorRange('saturation', jitter.saturation),
    hue: hueRange(jitter.hue),
  };
}

/** torchvision's ColorJitter._check_input for brightness, contrast and saturation. */
function factorRange(name: string, value: number | Range | undefined): Range | null {
  if (value === undefined) return null;
  const range = typeof value === 'number' ? centeredRange(name, value, Infinity, 1) : orderedRange(name, value);
  const clipped: Range = typeof value === 'number' ? [Math.max(0, range[0]), range[1]] : range;
  if (clipped[0] < 0) throw new OptionRangeError(`${name} factors must be non-negative, got [${range.join(', ')}]`);
  return clipped[0] === 1 && clipped[1] === 1 ? null : clipped;
}

function hueRange(value: number | Range | undefined): Range | null {
  if (value === undefined) return null;
  const range = typeof value === 'number' ? centeredRange('hue', value, 0.5) : orderedRange('hue', value);
  if (range[0] < -0.5 || range[1] > 0.5) throw new OptionRangeError(`hue must lie in [-0.5, 0.5], got [${range.join(', ')}]`);
  return range[0] === 0 && range[1] === 0 ? null : range;
}

/** `v` means [center - v, center + v] (v >= 0, at most `max`); a pair is taken as it is. */
function centeredRange(name: string, value: number | Range, max: number, center = 0): Range {
  if (typeof value !== 'number') return orderedRange(name, value);
  if (!(value >= 0 && value <= max)) throw new OptionRangeError(`${name} must be a number in [0, ${max}], got ${value}`);
  return [center - value, center + value];
}

function orderedRange(name: string, range: Range): Range {
  if (range.length !== 2 || !range.every(Number.isFinite) || range[0] > range[1]) {
    throw new OptionRangeError(`${name} must be a [min, max] pair of finite numbers, got [${range.join(', ')}]`);
  }
  return [range[0], range[1]];
}

function probability(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new OptionRangeError(`${name} must be a probability in [0, 1], got ${p}`);
  return p;
}

function positiveInteger(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new OptionRangeError(`${name} must be a positive integer, got ${n}`);
}

function rgb(name: string, value: number | Rgb): Rgb {
  const list = typeof value === 'number' ? [value, value, value] : [...value];
  if (list.length !== 3 || !list.every(Number.isFinite)) throw new OptionRangeError(`${name} must be a number or 3 numbers, got ${String(value)}`);
  return list as unknown as Rgb;
}

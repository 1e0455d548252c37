import { resolveOptions, type AugmenterOptions, type TrainTransformOptions } from '../data/augment/options.js';
import { OptionRangeError } from '../runtime/errors.js';
import { NON_NEGATIVE, numberOption, PROBABILITY, UsageError, type Command, type NumberRule, type ParsedArgs } from './command.js';

/** RandomResizedCrop's smallest share of the image's area. */
const CROP_SCALE: NumberRule = { test: (v) => v > 0 && v <= 1, says: 'a number above 0, at most 1' };

/** Command-line options of the training transform, shared by `train` and `augment`. */
export const augmentOptions: Command['options'] = {
  'min-scale': { type: 'string' },
  hflip: { type: 'string' },
  vflip: { type: 'string' },
  rotation: { type: 'string' },
  brightness: { type: 'string' },
  contrast: { type: 'string' },
  saturation: { type: 'string' },
  hue: { type: 'string' },
};

// Options in a column 21 wide, as train's help has them.
export const augmentHelp = [
  '  --min-scale F        RandomResizedCrop scale range [F, 1] (default 0.08, as torchvision)',
  '  --hflip P            horizontal flip probability (default 0.5)',
  '  --vflip P            vertical flip probability (default 0)',
  '  --rotation DEG       random rotation in [-DEG, DEG] (default 0)',
  '  --brightness B --contrast C --saturation S --hue H   colour jitter (default none)',
].join('\n');

/**
 * `train`'s training transform: the random one the options describe, or null with `--no-augment`
 * (training takes the validation's Resize + CenterCrop), which refuses those options beside it.
 */
export function trainTransformOrNone(args: ParsedArgs): TrainTransformOptions | null {
  if (!args.values['no-augment']) return trainTransformFrom(args);
  const given = Object.keys(augmentOptions).filter((name) => args.values[name] !== undefined);
  if (given.length > 0) throw new UsageError(`--no-augment trains on the validation transform; it cannot go with --${given.join(', --')}`);
  return null;
}

export function trainTransformFrom(args: ParsedArgs): TrainTransformOptions {
  const jitter = {
    brightness: numberOption(args, 'brightness', 0, NON_NEGATIVE),
    contrast: numberOption(args, 'contrast', 0, NON_NEGATIVE),
    saturation: numberOption(args, 'saturation', 0, NON_NEGATIVE),
    hue: numberOption(args, 'hue', 0, NON_NEGATIVE),
  };
  return {
    scale: [numberOption(args, 'min-scale', 0.08, CROP_SCALE), 1],
    horizontalFlip: numberOption(args, 'hflip', 0.5, PROBABILITY),
    verticalFlip: numberOption(args, 'vflip', 0, PROBABILITY),
    rotation: numberOption(args, 'rotation', 0, NON_NEGATIVE),
    colorJitter: Object.values(jitter).some((v) => v > 0) ? jitter : undefined,
  };
}

/**
 * Checks transforms as the Augmenter will (a --min-scale above 1, a hue above 0.5, a --resize
 * below the crop), so that a bad value stops the command before it reads or writes anything.
 */
export function checkTransforms(...transforms: AugmenterOptions[]): void {
  try {
    for (const options of transforms) resolveOptions(options);
  } catch (error) {
    if (error instanceof OptionRangeError) throw new UsageError(error.message);
    throw error;
  }
}

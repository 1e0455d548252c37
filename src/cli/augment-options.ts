import type { TrainTransformOptions } from '../data/augment/options.js';
import { numberOption, type Command, type ParsedArgs } from './command.js';

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

export const augmentHelp = [
  '  --min-scale F    RandomResizedCrop scale range [F, 1] (default 0.08, as torchvision)',
  '  --hflip P        horizontal flip probability (default 0.5)',
  '  --vflip P        vertical flip probability (default 0)',
  '  --rotation DEG   random rotation in [-DEG, DEG] (default 0)',
  '  --brightness B --contrast C --saturation S --hue H   colour jitter (default none)',
].join('\n');

export function trainTransformFrom(args: ParsedArgs): TrainTransformOptions {
  const jitter = {
    brightness: numberOption(args, 'brightness', 0),
    contrast: numberOption(args, 'contrast', 0),
    saturation: numberOption(args, 'saturation', 0),
    hue: numberOption(args, 'hue', 0),
  };
  return {
    scale: [numberOption(args, 'min-scale', 0.08), 1],
    horizontalFlip: numberOption(args, 'hflip', 0.5),
    verticalFlip: numberOption(args, 'vflip', 0),
    rotation: numberOption(args, 'rotation', 0),
    colorJitter: Object.values(jitter).some((v) => v > 0) ? jitter : undefined,
  };
}

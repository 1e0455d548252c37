import { COUNT, numberOption, requiredString, WHOLE, type Command } from '../command.js';
import { augmentHelp, augmentOptions, checkTransforms, trainTransformFrom } from '../augment-options.js';
import { initNode } from '../../node.js';
import { writeFolderAugmentGrid } from '../../data/augment/grid-node.js';

export const augment: Command = {
  name: 'augment',
  summary: 'Write a grid of augmented samples from an image folder (the validation view, then random training draws).',
  usage: '--data DIR --out grid.png [--images N] [--variants N] [--size N] [augmentation options]',
  help: ['  --images N           images shown (default 4)', '  --variants N         training draws per image (default 5)', '  --size N             output size (default 224)', '  --seed N             the draws\' seed (default 0)', augmentHelp].join('\n'),
  options: { data: { type: 'string' }, out: { type: 'string' }, images: { type: 'string' }, variants: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, ...augmentOptions },
  async run(args) {
    const data = requiredString(args, 'data');
    const out = requiredString(args, 'out');
    const outputSize = numberOption(args, 'size', 224, COUNT);
    const train = trainTransformFrom(args);
    checkTransforms({ outputSize, train });
    const ctx = await initNode();
    await writeFolderAugmentGrid(ctx, {
      data,
      out,
      images: numberOption(args, 'images', 4, COUNT),
      variants: numberOption(args, 'variants', 5, WHOLE),
      outputSize,
      seed: numberOption(args, 'seed', 0, WHOLE),
      train,
    });
    console.log(`wrote ${out}`);
    ctx.destroy();
  },
};

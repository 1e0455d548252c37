import { numberOption, requiredString, stringOption, type Command } from '../command.js';
import { modelFromWeights } from '../model-from-weights.js';
import { initNode } from '../../node.js';
import { loadDataset } from '../../data/split.js';
import { decodeImageFile } from '../../data/decode-node.js';
import { BatchLoader } from '../../data/loader.js';
import { Augmenter } from '../../data/augment/augmenter.js';
import { Trainer } from '../../train/trainer.js';
import { formatBadFiles } from '../../data/bad-file.js';

export const evaluate: Command = {
  name: 'eval',
  summary: 'Loss and accuracy of trained weights on the validation part of an image folder.',
  usage: '--data DIR --weights FILE [--model vgg16] [--seed N] [--all]',
  help: [
    '  --data DIR       the folder (the validation split is the one train made with the same --seed)',
    '  --weights FILE   weights written by train',
    '  --model NAME     the architecture (default vgg16)',
    '  --all            evaluate every image, not only the validation split',
    '  --seed N --val-fraction F   the split (default 0, 0.2)',
    '  --batch-size N --image-size N --resize N',
  ].join('\n'),
  options: {
    data: { type: 'string' }, weights: { type: 'string' }, model: { type: 'string' }, classes: { type: 'string' }, all: { type: 'boolean' },
    seed: { type: 'string' }, 'val-fraction': { type: 'string' }, 'batch-size': { type: 'string' }, 'image-size': { type: 'string' }, resize: { type: 'string' },
  },
  async run(args) {
    const ctx = await initNode();
    const { model, classes } = await modelFromWeights(ctx, stringOption(args, 'model') ?? 'vgg16', requiredString(args, 'weights'), stringOption(args, 'classes'));
    const dataset = await loadDataset(requiredString(args, 'data'), { seed: numberOption(args, 'seed', 0), validationFraction: numberOption(args, 'val-fraction', 0.2) });
    const samples = args.values.all ? [...dataset.train, ...dataset.validation] : dataset.validation;
    const loader = new BatchLoader(samples, (path) => decodeImageFile(path), { batchSize: numberOption(args, 'batch-size', 16), seed: 0, shuffle: false });
    const transform = new Augmenter(ctx, { outputSize: numberOption(args, 'image-size', 224), resize: numberOption(args, 'resize', 256) });
    const trainer = new Trainer(ctx, model, { classes, train: loader, validation: loader, trainTransform: transform, evalTransform: transform }, { seed: 0 });
    const result = await trainer.evaluate(loader);
    console.log(`${result.samples} images: loss ${result.loss.toFixed(4)}, accuracy ${(100 * result.accuracy).toFixed(2)}%`);
    if (loader.badFiles.reports.length) console.log(`skipped:\n${formatBadFiles(loader.badFiles.reports)}`);
    ctx.destroy();
  },
};

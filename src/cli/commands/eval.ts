import { COUNT, FRACTION, numberOption, requiredString, stringOption, WHOLE, type Command, type ParsedArgs } from '../command.js';
import { modelFromWeights, validationView } from '../model-from-weights.js';
import { modelOption } from '../model-option.js';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../../runtime/errors.js';
import { readRunOptions, runFiles } from '../../train/run-folder.js';
import type { TrainRunOptions } from '../../train/run-node.js';
import { initNode } from '../../node.js';
import { loadDataset } from '../../data/split.js';
import { decodeImageFile } from '../../data/decode-node.js';
import { BatchLoader } from '../../data/loader.js';
import { Augmenter } from '../../data/augment/augmenter.js';
import { Trainer } from '../../train/trainer.js';
import { BadFileLog, formatBadFiles } from '../../data/bad-file.js';
import { describeConfusion } from '../../train/confusion-text.js';

export const evaluate: Command = {
  name: 'eval',
  summary: 'Loss, accuracy, per-class accuracy and confusion matrix of trained weights on the validation part of an image folder.',
  usage: '--run DIR | --data DIR --weights FILE [--model NAME] [--classes a,b] [--seed N] [--all]',
  help: [
    '  --run DIR        a run folder of train: its best weights on its own validation split (split.json), its data and seed',
    '  --data DIR       the folder (the validation split: the run\'s split.json when the weights sit in its run folder, else made by --seed as train makes it)',
    '  --weights FILE   weights written by train (best.safetensors records the model, classes and sizes)',
    '  --model NAME     the architecture, when the weights do not record it (default vgg16)',
    '  --classes LIST   class names in the head\'s order, when the weights do not record them',
    '  --all            evaluate every image, not only the validation split',
    '  --seed N --val-fraction F   the split (default 0, 0.2)',
    '  --batch-size N (default 16)  --image-size N --resize N  (default: as trained, else 224, 256)',
  ].join('\n'),
  options: {
    run: { type: 'string' }, data: { type: 'string' }, weights: { type: 'string' }, model: { type: 'string' }, classes: { type: 'string' }, all: { type: 'boolean' },
    seed: { type: 'string' }, 'val-fraction': { type: 'string' }, 'batch-size': { type: 'string' }, 'image-size': { type: 'string' }, resize: { type: 'string' },
  },
  async run(args) {
    // A run folder gives the defaults: its weights, its data, and the split it trained on (read,
    // not made again: images added since would change a split made by seed).
    const run = await runOf(args);
    const saved = run?.options;
    const weights = stringOption(args, 'weights') ?? run?.files.best ?? requiredString(args, 'weights');
    const data = stringOption(args, 'data') ?? saved?.data ?? requiredString(args, 'data');
    const manifestPath = run && existsSync(run.files.split) ? run.files.split : undefined;
    const split = {
      seed: numberOption(args, 'seed', saved?.seed ?? 0, WHOLE),
      validationFraction: numberOption(args, 'val-fraction', saved?.validationFraction ?? 0.2, FRACTION),
      manifestPath,
    };
    const batchSize = numberOption(args, 'batch-size', 16, COUNT);
    const given = { model: modelOption(args), classes: stringOption(args, 'classes') };
    const ctx = await initNode();
    const loaded = await modelFromWeights(ctx, weights, given);
    const { model, classes } = loaded;
    const view = validationView(args, loaded);
    const dataset = await loadDataset(data, split);
    if (dataset.classes.join('\n') !== classes.join('\n')) {
      throw new InputError(`${weights} was trained on the classes [${classes.join(', ')}], ${data} has [${dataset.classes.join(', ')}]: its labels would not be the head's outputs`);
    }
    const samples = args.values.all ? [...dataset.train, ...dataset.validation] : dataset.validation;
    console.log(`data: ${data}, ${args.values.all ? 'every image' : 'the validation split'} (split by ${dataset.splitBy === 'manifest' ? manifestPath : dataset.splitBy})`);
    const badFiles = new BadFileLog(); // those found while listing (of no split: they never decoded), then while decoding
    for (const report of dataset.badFiles) badFiles.add(report);
    const loader = new BatchLoader(samples, (path) => decodeImageFile(path), { batchSize, seed: 0, shuffle: false, badFiles });
    const transform = new Augmenter(ctx, view);
    const trainer = new Trainer(ctx, model, { classes, train: loader, validation: loader, trainTransform: transform, evalTransform: transform }, { seed: 0 });
    const result = await trainer.evaluate(loader, transform, { confusion: true });
    console.log(`${result.samples} images: loss ${result.loss.toFixed(4)}, accuracy ${(100 * result.accuracy).toFixed(2)}%`);
    for (const line of describeConfusion(classes, result.confusion!)) console.log(line);
    if (loader.badFiles.reports.length) console.log(`skipped:\n${formatBadFiles(loader.badFiles.reports)}`);
    ctx.destroy();
  },
};

/**
 * The run whose files give the defaults: --run, or the run folder the weights sit in when that run
 * trained on --data and kept its split (not when --seed or --val-fraction asks for a split made
 * afresh).
 */
async function runOf(args: ParsedArgs): Promise<{ files: ReturnType<typeof runFiles>; options: TrainRunOptions } | undefined> {
  const given = stringOption(args, 'run');
  if (given) return { files: runFiles(given), options: await readRunOptions(given) };
  const weights = stringOption(args, 'weights');
  const data = stringOption(args, 'data');
  if (!weights || !data || args.values.seed !== undefined || args.values['val-fraction'] !== undefined) return undefined;
  const files = runFiles(dirname(weights));
  if (!existsSync(files.options) || !existsSync(files.split)) return undefined;
  const options = await readRunOptions(dirname(weights));
  return resolve(options.data) === resolve(data) ? { files, options } : undefined;
}

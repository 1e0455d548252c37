import { COUNT, numberOption, requiredString, stringOption, UsageError, type Command } from '../command.js';
import { modelFromWeights, validationView } from '../model-from-weights.js';
import { modelOption } from '../model-option.js';
import { initNode, noGrad, softmax, tidy } from '../../node.js';
import { decodeImageFile } from '../../data/decode-node.js';
import { packBatch } from '../../data/pack-batch.js';
import { Augmenter } from '../../data/augment/augmenter.js';
import { BadImageError } from '../../data/bad-file.js';

export const predict: Command = {
  name: 'predict',
  summary: 'Classify images with trained weights: prints each image\'s class and probability.',
  usage: 'IMAGE... --weights FILE [--model NAME] [--classes a,b] [--top N]',
  help: [
    '  --weights FILE   weights written by train (best.safetensors records the model, classes and sizes)',
    '  --model NAME     the architecture, when the weights do not record it (default vgg16)',
    '  --classes LIST   class names in the head\'s order, when the weights do not record them',
    '  --top N          classes shown per image (default 1)',
    '  --image-size N --resize N   the validation transform (default: as trained, else 224, 256)',
  ].join('\n'),
  options: { weights: { type: 'string' }, model: { type: 'string' }, classes: { type: 'string' }, top: { type: 'string' }, 'image-size': { type: 'string' }, resize: { type: 'string' } },
  allowPositionals: true,
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError('give at least one image');
    const weights = requiredString(args, 'weights');
    const top = numberOption(args, 'top', 1, COUNT);
    const given = { model: modelOption(args), classes: stringOption(args, 'classes') };
    const ctx = await initNode();
    const loaded = await modelFromWeights(ctx, weights, given);
    const { model, classes } = loaded;
    const view = validationView(args, loaded);
    const transform = new Augmenter(ctx, view);
    let failures = 0;
    for (const path of args.positionals) {
      let image;
      try {
        image = await decodeImageFile(path);
      } catch (error) {
        if (!(error instanceof BadImageError)) throw error;
        console.log(`${path}\tskipped: ${error.report.reason} (${error.report.message})`);
        failures++;
        continue;
      }
      const batch = packBatch([{ ...image, label: 0, path, sampleIndex: 0 }]);
      const probabilities = tidy(() => noGrad(() => softmax(model.forward(transform.apply(batch).images))));
      const values = Array.from(await probabilities.read());
      probabilities.dispose();
      const ranked = values.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, top);
      console.log(`${path}\t${ranked.map(([p, i]) => `${classes[i]} ${(100 * p).toFixed(1)}%`).join('\t')}`);
    }
    ctx.destroy();
    return failures > 0 ? 1 : 0;
  },
};

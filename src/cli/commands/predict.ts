import { numberOption, requiredString, stringOption, UsageError, type Command } from '../command.js';
import { modelFromWeights } from '../model-from-weights.js';
import { initNode, noGrad, softmax, tidy } from '../../node.js';
import { decodeImageFile } from '../../data/decode-node.js';
import { packBatch } from '../../data/pack-batch.js';
import { Augmenter } from '../../data/augment/augmenter.js';
import { BadImageError } from '../../data/bad-file.js';

export const predict: Command = {
  name: 'predict',
  summary: 'Classify images with trained weights: prints each image\'s class and probability.',
  usage: 'IMAGE... --weights FILE [--model vgg16] [--classes a,b] [--top N]',
  help: [
    '  --weights FILE   weights written by train (best.safetensors records the classes)',
    '  --model NAME     the architecture (default vgg16)',
    '  --classes LIST   class names, when the weights do not record them',
    '  --top N          classes shown per image (default 1)',
    '  --image-size N --resize N   the validation transform (default 224, 256)',
  ].join('\n'),
  options: { weights: { type: 'string' }, model: { type: 'string' }, classes: { type: 'string' }, top: { type: 'string' }, 'image-size': { type: 'string' }, resize: { type: 'string' } },
  allowPositionals: true,
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError('give at least one image');
    const ctx = await initNode();
    const { model, classes } = await modelFromWeights(ctx, stringOption(args, 'model') ?? 'vgg16', requiredString(args, 'weights'), stringOption(args, 'classes'));
    const transform = new Augmenter(ctx, { outputSize: numberOption(args, 'image-size', 224), resize: numberOption(args, 'resize', 256) });
    const top = numberOption(args, 'top', 1);
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

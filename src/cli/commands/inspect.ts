import { requiredString, type Command } from '../command.js';
import { modelOption } from '../model-option.js';
import { initNode } from '../../node.js';
import { formatWeightInspection } from '../../models/inspect.js';
import { inspectWeightsFile } from '../../models/node-weights.js';

export const inspect: Command = {
  name: 'inspect',
  summary: "List a weight file's tensors (name, shape, dtype, size), the totals, and what maps onto a model.",
  usage: '--weights FILE [--model vgg16]',
  help: '  --weights FILE  .pth (zip or legacy) or .safetensors\n  --model NAME    compare with this model (vgg16, vgg16_bn, resnet18, ...)',
  options: { weights: { type: 'string' }, model: { type: 'string' } },
  async run(args) {
    const weights = requiredString(args, 'weights');
    const model = modelOption(args);
    // Listing needs no GPU; comparing builds the model, whose tensors live on one.
    const ctx = model ? await initNode() : undefined;
    console.log(formatWeightInspection(await inspectWeightsFile(weights, model)));
    ctx?.destroy();
  },
};

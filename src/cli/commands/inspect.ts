import { requiredString, stringOption, type Command } from '../command.js';
import { formatWeightInspection } from '../../models/inspect.js';
import { inspectWeightsFile } from '../../models/node-weights.js';

export const inspect: Command = {
  name: 'inspect',
  summary: "List a weight file's tensors (name, shape, dtype, size), the totals, and what maps onto a model.",
  usage: '--weights FILE [--model vgg16]',
  help: '  --weights FILE  .pth (zip or legacy) or .safetensors\n  --model NAME    compare with this model (vgg16, vgg16_bn, resnet18, ...)',
  options: { weights: { type: 'string' }, model: { type: 'string' } },
  async run(args) {
    console.log(formatWeightInspection(await inspectWeightsFile(requiredString(args, 'weights'), stringOption(args, 'model'))));
  },
};

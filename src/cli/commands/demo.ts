import { COUNT, numberOption, stringOption, UsageError, type Command } from '../command.js';
import { initNode } from '../../node.js';
import { gradMonitorOption } from './train.js';
import { DEMO_CONFIG, DEFAULT_DEMO_WEIGHTS, runDemo } from '../../demo/run-demo.js';

export const demo: Command = {
  name: 'demo',
  summary: 'The embedded transfer-learning demo: scratch vs frozen-base transfer vs transfer+fine-tune vs unfreezing at once, on a few-label task (nothing to download).',
  usage: '[--quick] [--seeds 1,2,3] [--labelled N] [--epochs N] [--weights FILE] [--out DIR] [--grad-monitor N]',
  help: [
    '  --quick          one seed and fewer epochs (a smoke run, about a minute)',
    '  --seeds LIST     comma-separated seeds (default 1,2,3)',
    '  --labelled N     labelled training images per target class (default 10)',
    '  --epochs N       epochs of each phase (default 6; methods without phases train 2N)',
    '  --weights FILE   pretrained source weights (default: the committed ones)',
    '  --out DIR        where the table and curves go (default runs/demo)',
    '  --grad-monitor N every N steps, log each layer\'s gradient and update norms (grad-flow-*.jsonl, grad-flow.svg)',
  ].join('\n'),
  options: {
    quick: { type: 'boolean' },
    seeds: { type: 'string' },
    labelled: { type: 'string' },
    epochs: { type: 'string' },
    weights: { type: 'string' },
    out: { type: 'string' },
    'grad-monitor': { type: 'string' },
  },
  async run(args) {
    const seeds = (stringOption(args, 'seeds') ?? (args.values.quick ? '1' : DEMO_CONFIG.seeds.join(','))).split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seeds expects comma-separated integers, got '${s}'`);
      return n;
    });
    const epochs = numberOption(args, 'epochs', args.values.quick ? 3 : DEMO_CONFIG.headEpochs, COUNT);
    const config = {
      ...DEMO_CONFIG,
      seeds,
      labelled: numberOption(args, 'labelled', DEMO_CONFIG.labelled, COUNT),
      headEpochs: epochs,
      finetuneEpochs: epochs,
      testPerClass: args.values.quick ? 20 : DEMO_CONFIG.testPerClass,
    };
    const ctx = await initNode();
    await runDemo(ctx, { config, weights: stringOption(args, 'weights') ?? DEFAULT_DEMO_WEIGHTS, out: stringOption(args, 'out') ?? 'runs/demo', gradMonitor: gradMonitorOption(args) });
    ctx.destroy();
  },
};

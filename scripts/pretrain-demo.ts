// Pretrains the demo's small VGG on the procedural SOURCE task and writes the weights that the
// demo ships with (assets/demo/source-smallvgg.safetensors). Anyone can rerun it:
//   npx tsx scripts/pretrain-demo.ts [--epochs N] [--per-class N] [--out FILE]
// It stands in for ImageNet pretraining: many images of many classes, trained once.
import { parseArgs } from 'node:util';
import { initNode, adapterLabel } from '../src/node.js';
import { smallVgg } from '../src/models/vgg.js';
import { saveSafetensors } from '../src/models/node-weights.js';
import { Trainer } from '../src/train/trainer.js';
import { formatEpoch } from '../src/train/run-node.js';
import { DEMO_MODEL } from '../src/demo/experiments.js';
import { sourceTask, taskData } from '../src/demo/tasks.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '12' },
    'per-class': { type: 'string', default: '300' },
    out: { type: 'string', default: 'assets/demo/source-smallvgg.safetensors' },
    seed: { type: 'string', default: '1' },
    lr: { type: 'string', default: '0.02' },
  },
});
const epochs = Number(values.epochs);
const seed = Number(values.seed);
const ctx = await initNode();
console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
const task = sourceTask(Number(values['per-class']), 30);
const model = smallVgg({ ...DEMO_MODEL, numClasses: task.classes.length, seed, ctx });
const started = performance.now();
const trainer = new Trainer(ctx, model, taskData(ctx, task, 32, seed), { seed }, { onEpoch: (r) => console.log(formatEpoch(r)) });
const history = await trainer.run([
  { name: 'pretrain', epochs, trainable: { kind: 'all' }, optimizer: 'sgd', lr: Number(values.lr), momentum: 0.9, weightDecay: 5e-4, scheduler: { kind: 'cosine' } },
]);
const last = history[history.length - 1]!;
await saveSafetensors(model, values.out!, {
  classes: JSON.stringify(task.classes),
  model: `smallVgg ${JSON.stringify(DEMO_MODEL)}`,
  command: `npx tsx scripts/pretrain-demo.ts --epochs ${epochs} --per-class ${values['per-class']} --seed ${seed} --lr ${values.lr}`,
  validation_accuracy: last.valAccuracy.toFixed(4),
  adapter: adapterLabel(ctx.adapter),
});
console.log(`wrote ${values.out}: source validation accuracy ${(100 * last.valAccuracy).toFixed(1)}% after ${epochs} epochs, ${((performance.now() - started) / 1000).toFixed(0)} s`);

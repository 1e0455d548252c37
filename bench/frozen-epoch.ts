// An epoch of the transfer phase (frozen base, new head; train, then validate), with the frozen
// base's validation outputs kept (train/feature-cache.ts, the default) and without
// (`featureCacheBytes: 0`), on the same adapter in one process, in alternating rounds.
//   npx tsx bench/frozen-epoch.ts [--model=smallvgg|vgg16] [--rounds=3] [--no-augment]   (WGT_ADAPTER=lavapipe|swiftshader)
//
// --no-augment trains on the validation transform (train --no-augment), so the frozen base's
// training outputs are kept too (train/sample-feature-cache.ts): the kept epoch trains the head alone.
//
// smallvgg: the demo's small VGG at 32x32, 400 training and 100 validation images (the notebook's
//   80/20 split), batch 16. vgg16: torchvision's VGG16 (4-class head, random weights: speed only)
//   at 64x64, 32 and 8 images, batch 4 (the notebook's).
// Each round trains a fresh model for 2 epochs either way; the second epoch is the one measured
// (the first fills the cache). Validation time is the epoch's time less its training time. Images
// come from memory (the demo's shapes), so no decoding is counted: on files, the kept outputs
// also save decoding the validation images every epoch.
//
// There is no peer here: tfjs has no such cache. The A/B is the figure.
//
// lavapipe (Mesa 25.0.7), 2-core x86-64, 2026-11-28, median of 3 rounds (bench/README.md):
//   smallvgg: epoch 1.59 s whole model validating, 1.30 s kept (validation 0.33 s -> 0.01 s)
//   vgg16:    epoch 4.55 s, 3.67 s (validation 0.90 s -> 0.00 s); the same losses in every round
// --no-augment (cb12653): smallvgg 1.44 s -> 0.03 s (training 1.16 -> 0.03), vgg16 4.26 s -> 0.11 s
//   (training 3.40 -> 0.10); the same losses in every round
import { initNode, adapterLabel, smallVgg, vgg16 } from '../src/node.js';
import { Trainer, type EpochRecord } from '../src/train/trainer.js';
import type { PhaseConfig } from '../src/train/plan.js';
import { memoryBatches } from '../src/demo/memory-source.js';
import { drawTask, TARGET_CLASSES } from '../src/demo/shapes.js';
import { Augmenter } from '../src/data/augment/augmenter.js';
import { DEMO_TRAIN_TRANSFORM } from '../src/demo/tasks.js';
import type { VGG } from '../src/models/vgg.js';
import type { GpuContext } from '../src/runtime/context.js';
import { median } from './util/timing.js';

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const modelName = option('model') ?? 'smallvgg';
const rounds = Number(option('rounds') ?? 3);
const augment = !process.argv.includes('--no-augment');

interface Setup {
  make(ctx: GpuContext): VGG;
  size: number;
  train: number;
  validation: number;
  batch: number;
}

const SETUPS: Record<string, Setup> = {
  smallvgg: { make: (ctx) => smallVgg({ numClasses: 4, seed: 1, ctx }), size: 32, train: 400, validation: 100, batch: 16 },
  vgg16: { make: (ctx) => vgg16({ numClasses: 4, seed: 1, ctx }), size: 64, train: 32, validation: 8, batch: 4 },
};
const setup = SETUPS[modelName];
if (!setup) throw new Error(`--model must be ${Object.keys(SETUPS).join(' or ')}`);

const ctx = await initNode();
console.log(`adapter: ${adapterLabel(ctx.adapter)}; ${modelName} at ${setup.size}x${setup.size}, ${setup.train} training and ${setup.validation} validation images, batch ${setup.batch}; ${rounds} rounds; ${augment ? 'the demo\'s augmentation' : 'no augmentation'}`);

const drawn = (perClass: number, stream: number) => drawTask(TARGET_CLASSES, { size: setup.size + setup.size / 8, perClass, seed: 1, stream });
const trainImages = drawn(setup.train / TARGET_CLASSES.length, 10);
const validationImages = drawn(setup.validation / TARGET_CLASSES.length, 1);
const phase: PhaseConfig = { name: 'transfer', epochs: 2, trainable: { kind: 'head' }, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } };

const evalTransform = () => new Augmenter(ctx, { outputSize: setup!.size, resize: setup!.size + setup!.size / 8 });

/** The second epoch of a fresh run: its seconds, and how many of them validation took. */
async function secondEpoch(featureCacheBytes: number | undefined): Promise<Epoch> {
  const model = setup!.make(ctx);
  const data = {
    classes: TARGET_CLASSES.map((c) => c.name),
    train: memoryBatches(trainImages, { batchSize: setup!.batch, seed: 1, shuffle: true }),
    validation: memoryBatches(validationImages, { batchSize: setup!.batch, seed: 1, shuffle: false }),
    trainTransform: augment ? new Augmenter(ctx, { outputSize: setup!.size, train: DEMO_TRAIN_TRANSFORM }) : evalTransform(),
    evalTransform: evalTransform(),
  };
  try {
    const [, record] = await new Trainer(ctx, model, data, { seed: 1, featureCacheBytes }).run([phase]);
    const trainSeconds = setup!.train / record!.imagesPerSecond;
    return { epoch: record!.seconds, train: trainSeconds, validation: record!.seconds - trainSeconds, record: record! };
  } finally {
    model.dispose();
  }
}

interface Epoch {
  epoch: number;
  train: number;
  validation: number;
  record: EpochRecord;
}

const results = { kept: [] as Epoch[], full: [] as Epoch[] };
for (let round = 0; round < rounds; round++) {
  for (const [label, bytes] of round % 2 === 0 ? ([['kept', undefined], ['full', 0]] as const) : ([['full', 0], ['kept', undefined]] as const)) {
    const r = await secondEpoch(bytes);
    results[label].push(r);
    console.log(`round ${round + 1} ${label.padEnd(4)}: epoch ${r.epoch.toFixed(2)} s, training ${r.train.toFixed(2)} s, validation ${r.validation.toFixed(2)} s (val acc ${(100 * r.record.valAccuracy).toFixed(1)}%)`);
  }
}
const same = results.kept.every((r, i) => r.record.valLoss === results.full[i]!.record.valLoss && r.record.trainLoss === results.full[i]!.record.trainLoss);
const medians = (epochs: Epoch[]) => ({ epoch: median(epochs.map((r) => r.epoch)), train: median(epochs.map((r) => r.train)), validation: median(epochs.map((r) => r.validation)) });
const kept = medians(results.kept);
const full = medians(results.full);
const row = (label: string, e: typeof kept) => `| ${label} | ${e.epoch.toFixed(2)} | ${e.train.toFixed(2)} | ${e.validation.toFixed(2)} |`;
console.log(`\n| second epoch of the transfer phase (median of ${rounds}) | epoch s | training s | validation s |`);
console.log('|---|---:|---:|---:|');
console.log(row('whole model every pass', full));
console.log(row(augment ? "frozen base's validation outputs kept" : "frozen base's training and validation outputs kept", kept));
console.log(`\nthe epoch ${(full.epoch / kept.epoch).toFixed(2)}x faster (training ${full.train.toFixed(2)} s -> ${kept.train.toFixed(2)} s, validation ${full.validation.toFixed(2)} s -> ${kept.validation.toFixed(2)} s); the same losses in every round: ${same}`);
ctx.destroy();

// What a training checkpoint costs: the time to read the weights and the optimizer's state back and
// write them (flushed to the disk, as `train` writes them), and the process's memory during and
// after. The checkpoint streams one tensor at a time (train/checkpoint-node.ts), so its peak
// should sit near the largest tensor, not near the file's size.
//
//   npx tsx bench/checkpoint.ts [--model vgg16|vgg16_bn|resnet18|small_vgg] [--size N] [--batch N] [--count N] [--out FILE]
//
// RSS is sampled every 20 ms; "held after" is measured after a garbage collection when Node runs
// with --expose-gc (`node --expose-gc --import tsx bench/checkpoint.ts`), else without one.
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adapterLabel, initNode, randn, SGD, Tensor } from '../src/node.js';
import { createModel } from '../src/models/registry.js';
import { trainStep } from '../src/train/profile.js';
import { saveCheckpoint } from '../src/train/checkpoint-node.js';
import { freshPosition } from '../src/train/trainer.js';
import type { TrainOptimizer } from '../src/train/optimizer.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg16' },
    size: { type: 'string', default: '64' },
    batch: { type: 'string', default: '4' },
    count: { type: 'string', default: '3' },
    out: { type: 'string', default: join(tmpdir(), `wgt-bench-checkpoint-${process.pid}.safetensors`) },
  },
});
const [size, batch, count] = [Number(values.size), Number(values.batch), Number(values.count)];
const MiB = 2 ** 20;
const rss = () => process.memoryUsage().rss;
const collect = () => (globalThis as { gc?: () => void }).gc?.();

const ctx = await initNode();
const model = createModel(values.model!, { numClasses: 2, seed: 1, ctx }).train();
const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const images = randn([batch, 3, size, size], 2, { ctx });
const labels = Tensor.fromData(ctx, Array.from({ length: batch }, (_, i) => i % 2), [batch], 'int32');
// Two steps: the momentum buffers exist, as in a run's checkpoint.
for (let i = 0; i < 2; i++) trainStep({ ctx, model, optimizer, images, labels });
await ctx.recorder.sync();

console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
console.log(`${values.model}, SGD with momentum, after 2 steps at ${batch}x3x${size}x${size}; checkpoint ${values.out}\n`);
console.log('| checkpoint | file MiB | ms | RSS before MiB | peak during (+MiB) | held after (+MiB) |');
console.log('|---:|---:|---:|---:|---:|---:|');
try {
  for (let i = 1; i <= count; i++) {
    collect();
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const started = performance.now();
    await saveCheckpoint(values.out!, model, { position: freshPosition(), optimizer: optimizer as unknown as TrainOptimizer, scheduler: null }, {});
    const ms = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, rss());
    collect();
    const bytes = (await stat(values.out!)).size;
    console.log(`| ${i} | ${(bytes / MiB).toFixed(0)} | ${ms.toFixed(0)} | ${(before / MiB).toFixed(0)} | ${((peak - before) / MiB).toFixed(0)} | ${((rss() - before) / MiB).toFixed(0)} |`);
  }
} finally {
  await rm(values.out!, { force: true });
  optimizer.dispose();
  model.dispose();
  ctx.destroy();
}

// What a run's first training step pays before it computes anything: compiling its kernels.
// One step of a model records every kernel it needs; the engine compiles each on first use
// (runtime/pipelines.ts). This lists them with what createComputePipeline took for each (in Node
// that is the compilation), then compiles the same kernels again on fresh devices, one by one
// and all at once through createComputePipelineAsync, to see whether compiling them together
// would pay.
//
//   npx tsx bench/compile.ts [--model vgg16|vgg16_bn|resnet18|small_vgg] [--size N] [--batch N] [--top N]
import { parseArgs } from 'node:util';
import { adapterLabel, initNode, randn, SGD, Tensor } from '../src/node.js';
import { createModel } from '../src/models/registry.js';
import { requestAdapter, requestDevice } from '../src/runtime/adapter.js';
import type { CompiledKernel } from '../src/runtime/pipelines.js';
import { trainStep } from '../src/train/profile.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg16' },
    size: { type: 'string', default: '64' },
    batch: { type: 'string', default: '2' },
    top: { type: 'string', default: '12' },
  },
});
const [size, batch, top] = [Number(values.size), Number(values.batch), Number(values.top)];
const seconds = (ms: number) => (ms / 1000).toFixed(2);

const ctx = await initNode();
const model = createModel(values.model!, { numClasses: 2, seed: 1, ctx }).train();
const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const images = randn([batch, 3, size, size], 2, { ctx });
const labels = Tensor.fromData(ctx, Array.from({ length: batch }, (_, i) => i % 2), [batch], 'int32');
const timedStep = async () => {
  const started = performance.now();
  trainStep({ ctx, model, optimizer, images, labels });
  await ctx.recorder.sync();
  return performance.now() - started;
};
const first = await timedStep();
const second = await timedStep();
const kernels = ctx.pipelines.kernels();
const compiled = ctx.pipelines.stats.compileMs;

console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
console.log(`${values.model}, one training step (SGD with momentum) at ${batch}x3x${size}x${size}: ${kernels.length} kernels\n`);
console.log(`first step ${seconds(first)} s, of which compiling ${seconds(compiled)} s; second step ${seconds(second)} s\n`);
console.log(`| kernel (the ${Math.min(top, kernels.length)} slowest to compile) | WGSL characters | workgroup | compile ms |`);
console.log('|---|---:|---|---:|');
for (const k of [...kernels].sort((a, b) => b.compileMs - a.compileMs).slice(0, top)) {
  console.log(`| ${k.name} | ${k.code.length} | ${k.workgroupSize.join('x')} | ${k.compileMs.toFixed(0)} |`);
}

optimizer.dispose();
model.dispose();
const gpu = ctx.gpu;
ctx.destroy();

/** The kernels compiled again on a device of their own, so that no cache of the first one helps. */
async function compileAgain(all: readonly CompiledKernel[], together: boolean): Promise<number> {
  const device = await requestDevice(await requestAdapter(gpu));
  const describe = (k: CompiledKernel): GPUComputePipelineDescriptor => ({ layout: 'auto', compute: { module: device.createShaderModule({ code: k.code }), entryPoint: 'main' } });
  const started = performance.now();
  if (together) await Promise.all(all.map((k) => device.createComputePipelineAsync(describe(k))));
  else for (const k of all) device.createComputePipeline(describe(k));
  const ms = performance.now() - started;
  device.destroy();
  return ms;
}
const oneByOne = await compileAgain(kernels, false);
const together = await compileAgain(kernels, true);
console.log(`\nthe ${kernels.length} again on a fresh device: one by one ${seconds(oneByOne)} s; all at once through createComputePipelineAsync ${seconds(together)} s`);

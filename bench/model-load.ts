// Loading a full-size weight file into a model: wall time to the GPU (read, upload, drop, one
// tensor at a time) and the process's memory. Peak RSS near "GPU copy + largest tensor" means
// the file is never held whole next to the model; near "GPU copy + file" would mean it is.
// On a software adapter (lavapipe) the "GPU" copy is ordinary process memory, so it is in RSS.
//
//   npx tsx bench/model-load.ts FILE [--model vgg16] [--init] [--forward]
//
//   --model    architecture by torchvision name (default vgg16)
//   --init     initialise the model first as PyTorch would (default: skipInit, so that the peak
//              below is the load's, not the random initialisation's)
//   --forward  then run one 1x3x64x64 forward pass and print the logits' checksum (the 411 MB
//              classifier.0.weight goes through the split bindings of src/kernels/matmul.ts)

import { initNode, adapterLabel, tensor, noGrad } from '../src/node.js';
import { skipInit } from '../src/nn/init.js';
import { createModel } from '../src/models/registry.js';
import { loadWeightsFile } from '../src/models/node-weights.js';
import { statSync } from 'node:fs';

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

async function main(args: string[]): Promise<void> {
  const path = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--model');
  if (!path) throw new Error('usage: npx tsx bench/model-load.ts FILE [--model vgg16] [--init] [--forward]');
  const modelName = args.includes('--model') ? args[args.indexOf('--model') + 1]! : 'vgg16';
  const ctx = await initNode();
  console.log(`adapter: ${adapterLabel(ctx.adapter)}; maxStorageBufferBindingSize ${mib(ctx.maxBindingBytes)}, maxBufferSize ${mib(ctx.maxBufferBytes)}`);
  const rss0 = process.memoryUsage().rss;

  const built = performance.now();
  const model = args.includes('--init') ? createModel(modelName) : skipInit(() => createModel(modelName));
  await ctx.recorder.sync();
  const buildMs = performance.now() - built;
  const rssBuilt = process.memoryUsage().rss;

  let sampledPeak = 0;
  const started = performance.now();
  const report = await loadWeightsFile(model, path, {
    onTensor: () => {
      sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
    },
  });
  await ctx.recorder.sync(); // the uploads have reached the GPU
  const loadMs = performance.now() - started;
  const rssLoaded = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;

  const size = statSync(path).size;
  const largest = Math.max(...model.parameters().map((p) => p.byteSize));
  console.log(`${report.file}: ${report.format}, ${report.loadedKeys.length} tensors, ${mib(report.bytesRead)} of data (file ${mib(size)}) into ${modelName}`);
  console.log(`build model (${args.includes('--init') ? 'PyTorch init' : 'skipInit'}): ${buildMs.toFixed(0)} ms; RSS ${mib(rss0)} -> ${mib(rssBuilt)}`);
  console.log(`load: ${loadMs.toFixed(0)} ms (${(report.bytesRead / MiB / (loadMs / 1000)).toFixed(0)} MiB/s)`);
  const modelBytes = model.parameters().reduce((sum, p) => sum + p.byteSize, 0) + model.namedBuffers().reduce((sum, [, b]) => sum + ('byteSize' in b ? b.byteSize : 0), 0);
  console.log(`RSS after load ${mib(rssLoaded)}; peak ${mib(peak)} (sampled between tensors: ${mib(sampledPeak)})`);
  console.log(
    `peak - (RSS before loading + model ${mib(modelBytes)}) = ${mib(peak - rssBuilt - modelBytes)}, against the largest tensor ${mib(largest)} ` +
      `(the file held whole would add ${mib(size)})`,
  );

  if (args.includes('--forward')) {
    model.eval();
    const x = tensor(Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i)), [1, 3, 64, 64]);
    const t = performance.now();
    const logits = noGrad(() => model.forward(x));
    const values = await logits.read();
    console.log(`forward 1x3x64x64: ${(performance.now() - t).toFixed(0)} ms; logits[0..3] ${Array.from(values.slice(0, 3), (v) => v.toFixed(5)).join(', ')}`);
  }
  model.dispose();
  ctx.destroy();
}

await main(process.argv.slice(2));

// Where a training step's peak GPU memory goes, without running the step: buffers are allocated
// when a step is recorded, so the recorder's dry run (commands recorded, then dropped) replays
// the pool's exact behaviour at any size, e.g. VGG16 at 224x224 batch 32 on a CPU adapter, in
// seconds. The same steps are replayed twice, with tensors' buffers planned per submission (the
// engine's default, runtime/memory-plan.ts) and with the bucket pool alone, and it prints both
// peaks next to the expected memory (bench/train-step.ts) and to the most bytes live at once
// (what a perfect allocator would need); what the bucket pool held when it last grew (live
// tensors and free buffers of other sizes, by size); and the buffers the plan ended with. The bench's step models (vgg16, smallvgg,
// vgg16-torchvision) have an expected figure; torchvision's vgg16_bn and resnet18 (a new 2-class
// head, `--frozen` freezes all but it) are replayed without one.
//
//   npx tsx bench/memory.ts [--model vgg16|smallvgg|vgg16-torchvision|vgg16_bn|resnet18] [--size N] [--batch N] [--frozen]
//   WGT_KERNELS=gpu npx tsx bench/memory.ts      # the GPU kernels' temporaries (split-K partial sums)

import { initNode, adapterLabel, Tensor, randn, freeze, SGD, type GpuContext, type Module } from '../src/node.js';
import { createModel } from '../src/models/registry.js';
import { freezeAllButHead } from '../src/models/freeze.js';
import { trainStep } from '../src/train/profile.js';
import { expectedMemory, ourModel, stepName, stepShape, type StepModel, type StepSpec } from './train-step.js';

const MiB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** "4 x 208 MiB, 7 x 104 MiB, ..." for buffers of at least 1 MiB, largest first. */
function bySize(counts: Map<number, number>): string {
  const rows = [...counts].filter(([size, n]) => size >= MiB && n > 0).sort((a, b) => b[0] - a[0]);
  return rows.map(([size, n]) => `${n} x ${mib(size)}`).join(', ') || '-';
}

const STEP_MODELS: readonly string[] = ['vgg16', 'smallvgg', 'vgg16-torchvision'] satisfies StepModel[];
const args = process.argv.slice(2);
const modelName = option(args, '--model') ?? 'vgg16';
const stepModel = STEP_MODELS.includes(modelName);
const spec: StepSpec = {
  model: modelName as StepModel,
  size: Number(option(args, '--size') ?? 224),
  batch: Number(option(args, '--batch') ?? 32),
  classes: 2,
  frozenBase: args.includes('--frozen'),
};

/** What one context's pool does over three recorded steps. */
interface Replay {
  peak: number;
  mostLive: number;
  /** The pool's buffers after the steps, by size. */
  held: Map<number, number>;
  /** When the pool last grew: live and free buffers by size, and the op that asked. */
  atPeak: { total: number; live: number; liveBySize: Map<number, number>; freeBySize: Map<number, number>; where: string };
  created: number[];
  expected: number | null;
  parameterBytes: number;
}

async function replay(ctx: GpuContext): Promise<Replay> {
  const pool = ctx.pool;
  await ctx.recorder.sync();
  pool.trim();
  const base = pool.stats.bytesAllocated;
  const model: Module = (stepModel ? ourModel(spec, ctx) : createModel(modelName, { numClasses: spec.classes, ctx })).train();
  if (spec.frozenBase) {
    if (stepModel) freeze(model, 'features');
    else freezeAllButHead(model);
  }
  const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = randn([spec.batch, 3, spec.size, spec.size], 21, { ctx });
  const labels = Tensor.fromData(ctx, Array.from({ length: spec.batch }, (_, i) => i % spec.classes), [spec.batch], 'int32');
  const parts = { ctx, model, optimizer, images, labels };
  await ctx.recorder.sync();
  ctx.recorder.dryRun = true;

  // Live bytes followed through the pool's observer; a snapshot whenever the pool grows (a bucket
  // pool grows on a request, a planning one when a submission is placed: the snapshot then
  // comes with the next request).
  const bytesOf = (counts: Map<number, number>) => [...counts].reduce((sum, [size, n]) => sum + size * n, 0);
  let liveBytes = bytesOf(pool.liveBySize());
  let mostLive = liveBytes;
  let atPeak: Replay['atPeak'] = { total: 0, live: 0, liveBySize: new Map(), freeBySize: new Map(), where: '' };
  pool.observer = (event, size) => {
    liveBytes += (event === 'acquire' ? 1 : -1) * size;
    mostLive = Math.max(mostLive, liveBytes);
    if (event === 'acquire' && pool.stats.bytesAllocated - base > atPeak.total) {
      atPeak = { total: pool.stats.bytesAllocated - base, live: liveBytes, liveBySize: pool.liveBySize(), freeBySize: pool.freeBySize(), where: callerOp() };
    }
  };
  const created: number[] = [];
  for (let step = 0; step < 3; step++) {
    const before = pool.stats.created;
    trainStep(parts);
    created.push(pool.stats.created - before);
  }
  pool.observer = null;
  ctx.recorder.dryRun = false;
  const held = new Map(pool.liveBySize());
  for (const [size, n] of pool.freeBySize()) held.set(size, (held.get(size) ?? 0) + n);
  const result: Replay = {
    peak: pool.stats.peakBytesAllocated - base,
    mostLive,
    held,
    atPeak,
    created,
    expected: stepModel ? expectedMemory(spec).expected : null,
    parameterBytes: model.parameters().reduce((sum, p) => sum + p.byteSize, 0),
  };
  optimizer.dispose();
  model.dispose();
  images.dispose();
  labels.dispose();
  return result;
}

/** The innermost op (or optimizer) frame of the current stack, e.g. "ops/elementwise.ts:113". */
function callerOp(): string {
  const frames = new Error().stack!.split('\n').slice(1);
  const frame = frames.find((f) => /src\/(ops|optim)\//.test(f)) ?? '';
  return frame.match(/src\/([^):]+:\d+)/)?.[1] ?? '?';
}

// The same steps on two contexts: tensors' buffers planned per submission (the default), and
// the bucket pool alone (GpuContextOptions.memoryPlan false, WGT_MEMORY=pool).
const planned = await initNode({ memoryPlan: true });
console.log(`adapter: ${adapterLabel(planned.adapter)}; kernels for ${planned.kernelTarget === 'gpu' ? 'a GPU' : 'a CPU adapter'} (WGT_KERNELS)`);
console.log(`${stepModel ? stepName(spec) : `${modelName}${spec.frozenBase ? ', all but the head frozen' : ''}`} ${stepShape(spec)}, SGD momentum; recorded, not run\n`);
const runs = { plan: await replay(planned), pool: await replay(await initNode({ memoryPlan: false })) };

const { expected, parameterBytes } = runs.plan;
const ratio = (bytes: number) => (expected ? `${(bytes / expected).toFixed(2)}x expected` : '');
for (const [name, run] of Object.entries(runs)) {
  console.log(`peak, ${name === 'plan' ? 'planned     ' : 'bucket pool '} ${mib(run.peak).padStart(9)}   ${ratio(run.peak)}`);
}
if (expected) {
  const e = expectedMemory(spec);
  console.log(`expected           ${mib(e.expected).padStart(9)}   parameters ${mib(e.parameters)}, gradients ${mib(e.gradients)}, optimizer state ${mib(e.optimizerState)}, saved activations ${mib(e.savedActivations)}, batch ${mib(e.batch)}`);
  console.log(`  + working set    ${mib(e.workingSet).padStart(9)}   ${((e.expected + e.workingSet) / MiB).toFixed(0)} MiB with it`);
} else {
  console.log(`(no expected figure for ${modelName}; its parameters are ${mib(parameterBytes)})`);
}
console.log(`most bytes live    ${mib(runs.plan.mostLive).padStart(9)}   at any one time: what an allocator that never strands memory would hold`);

const pool = runs.pool.atPeak;
console.log(`\nthe bucket pool, when it last grew (${pool.where}): ${mib(pool.live)} live, ${mib(pool.total - pool.live)} in free buffers of other sizes`);
console.log(`  live: ${bySize(pool.liveBySize)}`);
console.log(`  free: ${bySize(pool.freeBySize)}`);
console.log(`the planned pool's buffers after the steps: ${bySize(runs.plan.held)}`);
console.log(`\nbuffers created by steps 1, 2, 3: planned ${runs.plan.created.join(', ')}; bucket pool ${runs.pool.created.join(', ')}`);
process.exit(0);

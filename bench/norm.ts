// Batch norm GB/s on VGG-sized activations at batch 4: training forward (statistics + running
// update + normalise), backward (gradient sums + dx) and eval forward, for both reduction
// variants, next to tfjs-backend-webgpu's training-style batch norm on the same adapter.
//   npx tsx bench/norm.ts [--quick] [--no-tfjs]
//
// Bytes are the minimum traffic, as bench/peers/tfjs.ts counts them: forward 3|x| (a read for
// the statistics, a read and a write to normalise), backward 5|x| (x and dy read for the sums;
// x and dy read and dx written), eval 2|x|. Per-kernel times come from timestamp queries where
// the adapter has them.
import { initNode, adapterLabel, noGrad, randn, tensor, type Tensor } from '../src/node.js';
import { batchNorm2d } from '../src/ops/batchnorm.js';
import { runBackwardInput, runBatchStats, runGradSums, type BatchNormVariant } from '../src/kernels/batchnorm.js';
import { timeIt, gbps, median } from './util/timing.js';
import { benchBatchNorm } from './peers/tfjs.js';
import { initTfjsWebGPU } from './peers/tfjs-node.js';

const quick = process.argv.includes('--quick');
const withTfjs = !process.argv.includes('--no-tfjs');
const ctx = await initNode();
console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
const reps = quick ? 3 : 5;
const timing = { sync: () => ctx.recorder.sync(), warmup: 1, reps, budgetMs: 15_000 };

const shapes: [number, number, number, number][] = [
  [4, 64, 56, 56],
  [4, 256, 28, 28],
  [4, 512, 14, 14],
  ...(quick ? [] : [[4, 64, 224, 224] as [number, number, number, number]]),
];

interface Row {
  shape: string;
  variant: BatchNormVariant;
  forward: number;
  backward: number;
  eval: number;
  perKernelUs: Record<string, number>;
}
const rows: Row[] = [];
const peers: Record<string, number | string> = {};

async function gbpsOf(run: () => void, bytes: number): Promise<number> {
  const result = await timeIt(run, timing);
  return gbps(bytes, result.medianMs);
}

/** Median GPU time per kernel name over a few profiled runs, in microseconds. */
async function profileKernels(run: () => void): Promise<Record<string, number>> {
  if (!ctx.hasFeature('timestamp-query')) return {};
  ctx.startProfiling();
  for (let i = 0; i < 3; i++) run();
  const timings = await ctx.stopProfiling();
  const byName = new Map<string, number[]>();
  for (const t of timings) byName.set(t.name, [...(byName.get(t.name) ?? []), (t.endNs - t.startNs) / 1000]);
  return Object.fromEntries([...byName].map(([name, us]) => [name, median(us)]));
}

for (const shape of shapes) {
  const [n, c, h, w] = shape;
  const label = shape.join('x');
  const bytes = n * c * h * w * 4;
  const x = randn(shape, 1);
  const dy = randn(shape, 2);
  const weight = randn([c], 3, { mean: 1, std: 0.1 });
  const bias = randn([c], 4, { std: 0.1 });
  const runningMean = tensor(new Float32Array(c), [c]);
  const runningVar = tensor(new Float32Array(c).fill(1), [c]);
  for (const variant of ['lanes', 'tree'] as const) {
    const forward = () => noGrad(() => batchNorm2d(x, weight, bias, runningMean, runningVar, { training: true, variant }).dispose());
    const stats = runBatchStats(x, weight, bias, runningMean, runningVar, { momentum: 0.1, eps: 1e-5, variant });
    const backward = () => {
      const sums = runGradSums(x, dy, stats, variant);
      runBackwardInput(x, dy, stats, sums, variant).dispose();
      sums.sumDy.dispose();
      sums.sumDyXhat.dispose();
    };
    const evalForward = () => noGrad(() => batchNorm2d(x, weight, bias, runningMean, runningVar, { training: false, variant }).dispose());
    const row: Row = {
      shape: label,
      variant,
      forward: await gbpsOf(forward, 3 * bytes),
      backward: await gbpsOf(backward, 5 * bytes),
      eval: await gbpsOf(evalForward, 2 * bytes),
      perKernelUs: await profileKernels(() => {
        forward();
        backward();
      }),
    };
    stats.dispose();
    rows.push(row);
    console.log(label, variant, `fwd ${row.forward.toFixed(2)} GB/s, bwd ${row.backward.toFixed(2)} GB/s, eval ${row.eval.toFixed(2)} GB/s`, row.perKernelUs);
  }
  for (const t of [x, dy, weight, bias, runningMean, runningVar] as Tensor[]) t.dispose();
  ctx.pool.trim();
}

if (withTfjs) {
  const tfjs = await initTfjsWebGPU();
  for (const [n, c, h, w] of shapes) {
    const result = await benchBatchNorm(tfjs, { n, c, h, w }, { reps, budgetMs: 15_000 });
    peers[`${n}x${c}x${h}x${w}`] = result.gbps ?? `error: ${result.error?.slice(0, 60)}`;
  }
}

const fmt = (v: number | string | undefined) => (typeof v === 'number' ? v.toFixed(2) : (v ?? '-'));
console.log(`\n## batch norm GB/s on ${adapterLabel(ctx.adapter)}\n`);
console.log('| shape (NCHW) | layout | train forward | backward | eval forward | tfjs train forward | slowest kernel (µs) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const slowest = Object.entries(r.perKernelUs).sort((a, b) => b[1] - a[1])[0];
  const kernel = slowest ? `${slowest[0]} ${slowest[1].toFixed(0)}` : '-';
  console.log(`| ${r.shape} | ${r.variant} | ${fmt(r.forward)} | ${fmt(r.backward)} | ${fmt(r.eval)} | ${fmt(peers[r.shape])} | ${kernel} |`);
}

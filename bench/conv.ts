// conv2d (forward, input gradient, weight gradient) in GFLOP/s and max-pool in GB/s: our kernels
// next to tfjs-backend-webgpu, on the same adapter, in the same process, samples interleaved so
// that both see the same machine load.
//   npx tsx bench/conv.ts [--reps N] [--only REGEX] [--variant blocked|tiled]
// Besides wall-clock time (with a GPU sync), each sample records the process's CPU time: on a
// software adapter the "GPU" is this process's threads, and on a shared machine CPU time is the
// steadier measure of how much work a kernel is (wall time also counts waiting for a core).
import { loadavg } from 'node:os';
import { initNode, adapterLabel, tensor, type Tensor } from '../src/node.js';
import { runConv2dForward, runConv2dInputGrad, type ConvVariant } from '../src/kernels/conv2d-implicit-gemm.js';
import { runConv2dWeightGrad } from '../src/kernels/conv2d-weight-grad.js';
import { runMaxPoolForward } from '../src/kernels/pool-max.js';
import type { Conv2dGeometry } from '../src/kernels/conv2d-common.js';
import { gbps, gflops, median } from './util/timing.js';
import {
  ACT_SHAPES, CONV_SHAPES, actShapeLabel, benchConv2d, benchMaxPool, convShapeLabel, randomArray,
  type ConvPass, type PeerResult,
} from './peers/tfjs.js';
import { initTfjsWebGPU } from './peers/tfjs-node.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(option('--reps') ?? 5);
const only = option('--only') ? new RegExp(option('--only')!, 'i') : null;
const variant = option('--variant') as ConvVariant | undefined;

const ctx = await initNode();
const tfjs = await initTfjsWebGPU();
console.log(`adapter (ours): ${adapterLabel(ctx.adapter)}`);
console.log(`adapter (tfjs-backend-webgpu ${tfjs.tfjsVersion}): ${tfjs.adapter.description || tfjs.adapter.device}`);
console.log(`${reps} samples each, ours and tfjs alternating; median ms.\n`);

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** One synced run: [wall ms, CPU ms]. */
async function timeOne(run: () => Tensor): Promise<[number, number]> {
  const [t0, c0] = [performance.now(), cpuMs()];
  run().dispose();
  await ctx.recorder.sync();
  return [performance.now() - t0, cpuMs() - c0];
}

interface Row {
  what: string;
  shape: string;
  ours: number;
  tfjs: number | null;
  oursCpu: number;
  tfjsCpu: number | null;
  rate: (ms: number) => number;
  unit: string;
  load: number;
}
const rows: Row[] = [];

/**
 * Warms both up, then alternates one sample of ours with one of tfjs's. A tfjs sample is one
 * untimed and one timed run on freshly uploaded tensors, so its CPU time is taken as half of
 * the call's (slightly in tfjs's disfavour: the uploads are counted).
 */
async function compare(what: string, shape: string, ours: () => Tensor, peer: () => Promise<PeerResult>, rate: (ms: number) => number, unit: string) {
  if (only && !only.test(`${what} ${shape}`)) return;
  for (let i = 0; i < 2; i++) await timeOne(ours);
  const mine: [number, number][] = [];
  const theirs: [number, number][] = [];
  for (let r = 0; r < reps; r++) {
    mine.push(await timeOne(ours));
    const c0 = cpuMs();
    const p = await peer();
    if (p.medianMs !== null) theirs.push([p.medianMs, (cpuMs() - c0) / 2]);
    else if (r === 0) console.log(`  tfjs ${what} failed: ${p.error}`);
  }
  const wall = (xs: [number, number][]) => median(xs.map((x) => x[0]));
  const cpu = (xs: [number, number][]) => median(xs.map((x) => x[1]));
  const row: Row = {
    what, shape, rate, unit, load: loadavg()[0]!,
    ours: wall(mine), oursCpu: cpu(mine),
    tfjs: theirs.length ? wall(theirs) : null, tfjsCpu: theirs.length ? cpu(theirs) : null,
  };
  rows.push(row);
  const ratio = (a: number | null, b: number) => (a ? `${(a / b).toFixed(2)}x` : '-');
  console.log(`${what.padEnd(18)} ${shape.padEnd(28)} ours ${row.ours.toFixed(1).padStart(8)} ms ${rate(row.ours).toFixed(2).padStart(7)} ${unit}` +
    `   tfjs ${row.tfjs?.toFixed(1).padStart(8) ?? '       -'} ms ${row.tfjs ? rate(row.tfjs).toFixed(2).padStart(7) : '      -'} ${unit}` +
    `   ours/tfjs ${ratio(row.tfjs, row.ours)} (CPU time ${ratio(row.tfjsCpu, row.oursCpu)})   load ${row.load.toFixed(1)}`);
}

const PASSES: [ConvPass, string][] = [['forward', 'forward'], ['inputGrad', 'input grad'], ['filterGrad', 'weight grad']];
for (const s of CONV_SHAPES) {
  const g: Conv2dGeometry = {
    batch: s.n, inChannels: s.cin, inH: s.h, inW: s.w, outChannels: s.cout, outH: s.h, outW: s.w,
    kernelH: s.k, kernelW: s.k, strideH: 1, strideW: 1, padH: s.k >> 1, padW: s.k >> 1, dilationH: 1, dilationW: 1, groups: 1,
  };
  const x = tensor(randomArray(s.n * s.cin * s.h * s.w, 3), [s.n, s.cin, s.h, s.w]);
  const w = tensor(randomArray(s.cout * s.cin * s.k * s.k, 5).map((v) => v * 0.05), [s.cout, s.cin, s.k, s.k]);
  const dy = tensor(randomArray(s.n * s.cout * s.h * s.w, 9), [s.n, s.cout, s.h, s.w]);
  const flops = 2 * s.n * s.h * s.w * s.cout * s.cin * s.k * s.k;
  const ours: Record<ConvPass, () => Tensor> = {
    forward: () => runConv2dForward(x, w, undefined, g, { variant }),
    inputGrad: () => runConv2dInputGrad(dy, w, g, { variant }),
    filterGrad: () => runConv2dWeightGrad(x, dy, g),
  };
  for (const [pass, label] of PASSES) {
    await compare(`conv2d ${label}`, convShapeLabel(s), ours[pass], () => benchConv2d(tfjs, pass, s, { reps: 1, warmup: 1 }), (ms) => gflops(flops, ms), 'GFLOP/s');
  }
  for (const t of [x, w, dy]) t.dispose();
}

for (const s of ACT_SHAPES) {
  const x = tensor(randomArray(s.n * s.c * s.h * s.w, 17), [s.n, s.c, s.h, s.w]);
  const sizes = { planes: s.n * s.c, inH: s.h, inW: s.w, outH: s.h >> 1, outW: s.w >> 1 };
  const window = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [0, 0] as [number, number] };
  const bytes = s.n * s.c * s.h * s.w * 4 * 1.25; // read x, write y (a quarter of x)
  await compare('maxpool 2x2', actShapeLabel(s), () => runMaxPoolForward(x, sizes, window, false).y, () => benchMaxPool(tfjs, s, { reps: 1, warmup: 1 }), (ms) => gbps(bytes, ms), 'GB/s');
  x.dispose();
}

console.log(`\nWall-clock medians (rate from them) and CPU-time medians; speed-ups are tfjs time / ours.`);
console.log(`| what | shape (NCHW) | ours ms | ours rate | tfjs ms | tfjs rate | speed-up (wall) | ours CPU ms | tfjs CPU ms | speed-up (CPU) | load |`);
console.log(`|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of rows) {
  const ratio = (a: number | null, b: number) => (a ? `${(a / b).toFixed(2)}x` : '-');
  console.log(
    `| ${r.what} | ${r.shape} | ${r.ours.toFixed(1)} | ${r.rate(r.ours).toFixed(2)} ${r.unit} | ${r.tfjs?.toFixed(1) ?? '-'} | ` +
      `${r.tfjs ? `${r.rate(r.tfjs).toFixed(2)} ${r.unit}` : '-'} | ${ratio(r.tfjs, r.ours)} | ${r.oursCpu.toFixed(0)} | ${r.tfjsCpu?.toFixed(0) ?? '-'} | ` +
      `${ratio(r.tfjsCpu, r.oursCpu)} | ${r.load.toFixed(1)} |`,
  );
}

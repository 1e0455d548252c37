// Kernel benchmarks side by side: our kernels and tfjs-backend-webgpu's on VGG16's shapes at batch
// 4, same adapter, same process, a round of samples of ours then one of tfjs's so that both see the
// same machine load. Every sample ends with the GPU idle. The per-area benches (bench/matmul.ts,
// conv.ts, norm.ts, augment.ts) race variants; this is the suite's one line per kernel.
import { Tensor } from '../src/autograd/tensor.js';
import { noGrad } from '../src/autograd/graph.js';
import { tensor } from '../src/ops/creation.js';
import { batchNorm2d } from '../src/ops/batchnorm.js';
import { runGemm } from '../src/kernels/matmul.js';
import { runConv2dForward, runConv2dInputGrad } from '../src/kernels/conv2d-implicit-gemm.js';
import { runConv2dWeightGrad } from '../src/kernels/conv2d-weight-grad.js';
import type { Conv2dGeometry } from '../src/kernels/conv2d-common.js';
import { runMaxPoolForward } from '../src/kernels/pool-max.js';
import { packBatch } from '../src/data/pack-batch.js';
import { Augmenter } from '../src/data/augment/augmenter.js';
import type { GpuContext } from '../src/runtime/context.js';
import { median } from './util/timing.js';
import { errorLine } from './util/error-line.js';
import {
  ACT_SHAPES, CONV_SHAPES, MATMUL_VGG_FC, actShapeLabel, benchBatchNorm, benchConv2d, benchMatmul, benchMaxPool, convShapeLabel, randomArray,
  type ActShape, type BenchOpts, type ConvShape, type PeerResult, type TfjsPeer,
} from './peers/tfjs.js';

export interface KernelCase {
  /** As the peers name them: 'matmul', 'conv2d.forward', 'conv2d.inputGrad', 'conv2d.filterGrad', 'batchnorm.train', 'maxpool2x2', 'augment'. */
  name: string;
  shape: string;
  /** Work per run, for GFLOP/s; or bytes moved at least once, for GB/s; or images, for images/s. */
  flops?: number;
  bytes?: number;
  images?: number;
  /** Allocates the inputs; returns one run of ours (recorded, not awaited) and the clean-up. */
  setup(ctx: GpuContext): { run: () => void; dispose: () => void };
  /** One tfjs sample (the peer functions of bench/peers/tfjs.ts); absent: tfjs has no such kernel. */
  tfjs?: (peer: TfjsPeer, opts: BenchOpts) => Promise<PeerResult>;
}

export interface KernelResult {
  name: string;
  shape: string;
  unit: 'GFLOP/s' | 'GB/s' | 'img/s';
  oursMs: number | null;
  tfjsMs: number | null;
  oursRate: number | null;
  tfjsRate: number | null;
  /** tfjs time / our time: above 1, ours is faster. */
  speedup: number | null;
  /** Our samples (ms per run), in the order taken. */
  oursSamplesMs: number[];
  /** tfjs's figures, one per round: the median of that round's samples (its peer functions time a round). */
  tfjsRoundMedianMs: number[];
  /** Samples per round, ours and tfjs's alike. */
  perRound: number;
  error?: string;
  tfjsError?: string;
  load1: number;
}

const geometry = (s: ConvShape): Conv2dGeometry => ({
  batch: s.n, inChannels: s.cin, inH: s.h, inW: s.w, outChannels: s.cout, outH: s.h, outW: s.w,
  kernelH: s.k, kernelW: s.k, strideH: 1, strideW: 1, padH: s.k >> 1, padW: s.k >> 1, dilationH: 1, dilationW: 1, groups: 1,
});

function dispose(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

export function matmulCase(m: number, k: number, n: number, weightLayout: boolean): KernelCase {
  // weightLayout: B given as PyTorch's Linear weight [n, k] and used transposed (x·Wᵀ), as a layer runs it.
  return {
    name: 'matmul',
    shape: `${m}x${k} @ ${k}x${n}`,
    flops: 2 * m * k * n,
    setup() {
      const a = tensor(randomArray(m * k, 7), [m, k]);
      const b = tensor(randomArray(k * n, 11), weightLayout ? [n, k] : [k, n], { name: 'B' });
      return { run: () => runGemm(a, b, { transB: weightLayout }).dispose(), dispose: () => dispose(a, b) };
    },
    tfjs: (peer, opts) => benchMatmul(peer, m, k, n, opts),
  };
}

export function convCases(s: ConvShape): KernelCase[] {
  const passes = ['forward', 'inputGrad', 'filterGrad'] as const;
  return passes.map((pass) => ({
    name: `conv2d.${pass}`,
    shape: convShapeLabel(s),
    flops: 2 * s.n * s.h * s.w * s.cout * s.cin * s.k * s.k,
    setup() {
      const g = geometry(s);
      const x = tensor(randomArray(s.n * s.cin * s.h * s.w, 3), [s.n, s.cin, s.h, s.w]);
      const w = tensor(randomArray(s.cout * s.cin * s.k * s.k, 5).map((v) => v * 0.05), [s.cout, s.cin, s.k, s.k]);
      const dy = tensor(randomArray(s.n * s.cout * s.h * s.w, 9), [s.n, s.cout, s.h, s.w]);
      const run = {
        forward: () => runConv2dForward(x, w, undefined, g),
        inputGrad: () => runConv2dInputGrad(dy, w, g),
        filterGrad: () => runConv2dWeightGrad(x, dy, g),
      }[pass];
      return { run: () => run().dispose(), dispose: () => dispose(x, w, dy) };
    },
    tfjs: (peer, opts) => benchConv2d(peer, pass, s, opts),
  }));
}

export function batchNormCase(s: ActShape): KernelCase {
  return {
    name: 'batchnorm.train',
    shape: actShapeLabel(s),
    bytes: 3 * s.n * s.c * s.h * s.w * 4,
    setup() {
      const x = tensor(randomArray(s.n * s.c * s.h * s.w, 13), [s.n, s.c, s.h, s.w]);
      const weight = tensor(new Float32Array(s.c).fill(1), [s.c]);
      const bias = tensor(new Float32Array(s.c), [s.c]);
      const mean = tensor(new Float32Array(s.c), [s.c]);
      const variance = tensor(new Float32Array(s.c).fill(1), [s.c]);
      const run = () => noGrad(() => batchNorm2d(x, weight, bias, mean, variance, { training: true }).dispose());
      return { run, dispose: () => dispose(x, weight, bias, mean, variance) };
    },
    tfjs: (peer, opts) => benchBatchNorm(peer, s, opts),
  };
}

export function maxPoolCase(s: ActShape): KernelCase {
  return {
    name: 'maxpool2x2',
    shape: actShapeLabel(s),
    bytes: s.n * s.c * s.h * s.w * 4 * 1.25,
    setup() {
      const x = tensor(randomArray(s.n * s.c * s.h * s.w, 17), [s.n, s.c, s.h, s.w]);
      const sizes = { planes: s.n * s.c, inH: s.h, inW: s.w, outH: s.h >> 1, outW: s.w >> 1 };
      const window = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [0, 0] as [number, number] };
      return { run: () => runMaxPoolForward(x, sizes, window, false).y.dispose(), dispose: () => x.dispose() };
    },
    tfjs: (peer, opts) => benchMaxPool(peer, s, opts),
  };
}

/**
 * The notebook's training transform (RandomResizedCrop(224) + horizontal flip + Normalize) on a
 * batch of synthetic 500x375 images: upload of the packed bytes and the kernels. tfjs has none.
 */
export function augmentCase(batchSize: number): KernelCase {
  const [width, height, out] = [500, 375, 224];
  return {
    name: 'augment',
    shape: `${batchSize}x${width}x${height} uint8 -> ${batchSize}x3x${out}x${out}, RandomResizedCrop + flip + Normalize`,
    images: batchSize,
    setup(ctx) {
      let state = 12345;
      const noise = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 24) & 31;
      const batch = packBatch(
        Array.from({ length: batchSize }, (_, i) => {
          const pixels = new Uint8Array(width * height * 3);
          for (let p = 0; p < pixels.length; p++) pixels[p] = ((p % (width * 3)) / 6 + i * 17 + noise()) & 0xff;
          return { pixels, width, height, label: i % 2, path: `synthetic/${i}`, sampleIndex: i };
        }),
      );
      const augmenter = new Augmenter(ctx, { outputSize: out, train: { horizontalFlip: 0.5 } });
      let epoch = 0;
      return { run: () => augmenter.apply(batch, { seed: 1, epoch: epoch++ }).images.dispose(), dispose: () => augmenter.dispose() };
    },
  };
}

export interface KernelSuiteOptions {
  quick: boolean;
  /** The adapter is a GPU: add VGG16's 224x224 shapes. */
  hardware: boolean;
}

export function kernelCases(o: KernelSuiteOptions): KernelCase[] {
  const { m, k, n } = MATMUL_VGG_FC;
  const square = o.quick ? [512] : o.hardware ? [1024, 2048] : [512, 1024];
  const convShapes: ConvShape[] = [
    ...(o.hardware ? [{ n: 4, cin: 64, h: 224, w: 224, cout: 64, k: 3 }] : []),
    ...CONV_SHAPES,
  ];
  const actShapes = o.quick ? ACT_SHAPES.slice(1) : ACT_SHAPES;
  return [
    ...square.map((s) => matmulCase(s, s, s, false)),
    matmulCase(m, k, n, true),
    ...convShapes.flatMap(convCases),
    ...actShapes.map(batchNormCase),
    ...actShapes.map(maxPoolCase),
    augmentCase(o.quick ? 8 : 32),
  ];
}

/** Warms ours up, then alternates a round of samples of ours with one of tfjs's (its peer function warms itself). */
export async function runKernelCase(ctx: GpuContext, c: KernelCase, peer: TfjsPeer | null, reps: number, load: () => number): Promise<KernelResult> {
  const unit = c.flops ? 'GFLOP/s' : c.bytes ? 'GB/s' : 'img/s';
  const rate = (ms: number | null) =>
    ms === null ? null : c.flops ? c.flops / (ms * 1e6) : c.bytes ? c.bytes / (ms * 1e6) : (c.images! * 1000) / ms;
  const result: KernelResult = { name: c.name, shape: c.shape, unit, oursMs: null, tfjsMs: null, oursRate: null, tfjsRate: null, speedup: null, oursSamplesMs: [], tfjsRoundMedianMs: [], perRound: 0, load1: 0 };
  let setup: ReturnType<KernelCase['setup']> | null = null;
  const ours: number[] = [];
  const theirs: number[] = [];
  let tfjs = peer && c.tfjs ? c.tfjs : null;
  try {
    setup = c.setup(ctx);
    const once = async () => {
      const t0 = performance.now();
      setup!.run();
      await ctx.recorder.sync();
      return performance.now() - t0;
    };
    await once();
    // Short kernels get several samples per round (each still ending with the GPU idle): one
    // sample of a few ms says more about the machine's scheduler than about the kernel.
    const perRound = Math.min(10, Math.max(1, Math.round(200 / (await once()))));
    result.perRound = perRound;
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < perRound; i++) ours.push(await once());
      if (tfjs) {
        const p = await tfjs(peer!, { warmup: 1, reps: perRound });
        if (p.medianMs !== null) theirs.push(p.medianMs);
        else {
          result.tfjsError = p.error ?? 'failed';
          tfjs = null;
        }
      }
    }
  } catch (e) {
    result.error = errorLine(e);
  } finally {
    setup?.dispose();
    await ctx.recorder.sync().catch(() => undefined);
    ctx.pool.trim();
  }
  result.oursSamplesMs = ours;
  result.tfjsRoundMedianMs = theirs;
  result.oursMs = ours.length ? median(ours) : null;
  result.tfjsMs = theirs.length ? median(theirs) : null;
  result.oursRate = rate(result.oursMs);
  result.tfjsRate = rate(result.tfjsMs);
  result.speedup = result.oursMs && result.tfjsMs ? result.tfjsMs / result.oursMs : null;
  result.load1 = load();
  return result;
}

import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { forwardConv, inputGradConv, type Conv2dGeometry, type SlidingConv } from './conv2d-common.js';
import { chooseConvVariant, runConv2dForward, runConv2dInputGrad } from './conv2d-implicit-gemm.js';
import { layerKey, listenForConvolutions, setMeasuredTile, stopListening, tileBytes, tileName, type ConvRole, type ConvTile } from './conv2d-tile.js';

/**
 * Chooses the tiled convolution's tile layer by layer by timing the candidates on this GPU, as
 * PyTorch's `torch.backends.cudnn.benchmark` chooses cuDNN's algorithms. Which tile is fastest
 * depends on the GPU (its banks, registers, cores) and on the layer (few channels waste a wide
 * tile), and no software adapter here can tell. Every tile sums in the same order, so the choice
 * changes no result (conv2d-tile.ts).
 *
 * It costs a few runs of every candidate on every layer once, before training: VGG16 has 9
 * distinct layer shapes, 2 roles each. CPU adapters run the blocked kernel, which has no tile:
 * there is nothing to tune.
 */
export const TILE_CANDIDATES: readonly ConvTile[] = [
  { channels: 64, pixels: 64, depth: 16 },
  { channels: 64, pixels: 64, depth: 32 },
  { channels: 128, pixels: 64, depth: 16 },
  { channels: 64, pixels: 128, depth: 16 },
  { channels: 128, pixels: 128, depth: 16 },
];

export interface TuneOptions {
  /** Tiles to time; those the adapter's workgroup memory cannot hold are left out. */
  candidates?: readonly ConvTile[];
  /** Timed runs per candidate, after one that compiles and warms it. */
  runs?: number;
  /** Which convolutions: the forward pass, and the input gradient a trained layer also runs. */
  roles?: readonly ConvRole[];
}

export interface TunedLayer {
  role: ConvRole;
  /** The layer as "images x channels x H x W -> channels, KxK". */
  layer: string;
  /** Milliseconds per run of each candidate, in the order timed. */
  timings: { tile: string; ms: number }[];
  chosen: string;
}

/**
 * Times the candidate tiles on every convolution `runModel` performs, and makes each layer run
 * with its fastest from now on (in this context). `runModel` should run the model's forward pass
 * on a batch of the shape it will train on, under noGrad and in eval mode (batch norm's running
 * statistics are not updated); it is recorded but never submitted. Returns what was measured.
 */
export async function tuneConvTiles(ctx: GpuContext, runModel: () => void, options: TuneOptions = {}): Promise<TunedLayer[]> {
  if (ctx.convTile) return []; // a forced tile wins over any measurement
  const layers = convolutionsOf(ctx, runModel);
  const runs = options.runs ?? 3;
  const report: TunedLayer[] = [];
  for (const g of layers) {
    for (const role of options.roles ?? (['forward', 'input_grad'] as const)) {
      const conv = role === 'forward' ? forwardConv(g) : inputGradConv(g);
      if (chooseConvVariant(ctx, conv) !== 'tiled') continue;
      const candidates = (options.candidates ?? TILE_CANDIDATES).filter((tile) => tileBytes(tile) <= ctx.limits.maxComputeWorkgroupStorageSize && fills(tile, conv));
      if (candidates.length < 2) continue;
      const timings: TunedLayer['timings'] = [];
      for (const tile of candidates) timings.push({ tile: tileName(tile), ms: await timeTile(ctx, role, g, conv, tile, runs) });
      const best = timings.reduce((a, b) => (b.ms < a.ms ? b : a));
      setMeasuredTile(ctx, layerKey(role, conv), candidates[timings.indexOf(best)]!);
      report.push({ role, layer: layerName(g), timings, chosen: best.tile });
    }
  }
  await ctx.recorder.sync();
  ctx.pool.trim(); // the timed layers' operands: training would inherit them as its peak
  return report;
}

/** The convolutions `runModel` performs, recorded in a dry run (nothing is submitted). */
function convolutionsOf(ctx: GpuContext, runModel: () => void): Conv2dGeometry[] {
  const seen = listenForConvolutions(ctx);
  const dryRun = ctx.recorder.dryRun;
  ctx.recorder.flush(); // pending work belongs to the caller: submit it before the dry run drops anything
  ctx.recorder.dryRun = true;
  try {
    runModel();
    ctx.recorder.flush();
  } finally {
    ctx.recorder.dryRun = dryRun;
    stopListening(ctx);
  }
  return [...seen.values()];
}

/** A tile 128 wide along a dimension only where the layer has more than 64 of it. */
function fills(tile: ConvTile, conv: SlidingConv): boolean {
  return (tile.channels === 64 || conv.outPerGroup > 64) && (tile.pixels === 64 || conv.images * conv.outH * conv.outW > 64);
}

/**
 * Milliseconds per run of one role of layer `g` with `tile`, from timestamp queries where the
 * adapter has them, else from the wall clock around the runs. The operands' values do not matter
 * (a GPU's time does not depend on them): they are whatever the pool's buffers hold.
 */
async function timeTile(ctx: GpuContext, role: ConvRole, g: Conv2dGeometry, conv: SlidingConv, tile: ConvTile, runs: number): Promise<number> {
  const src = Tensor.empty(ctx, [conv.images, conv.srcChannels, conv.srcH, conv.srcW]);
  const weight = Tensor.empty(ctx, [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW]);
  const run = () => (role === 'forward' ? runConv2dForward(src, weight, undefined, g, 'tiled', tile) : runConv2dInputGrad(src, weight, g, 'tiled', tile)).dispose();
  try {
    run(); // compiles the pipeline and warms the caches
    await ctx.recorder.sync();
    if (ctx.hasFeature('timestamp-query')) {
      ctx.startProfiling();
      for (let i = 0; i < runs; i++) run();
      const timings = await ctx.stopProfiling();
      return timings.reduce((sum, t) => sum + (t.endNs - t.startNs), 0) / 1e6 / runs;
    }
    const start = performance.now();
    for (let i = 0; i < runs; i++) run();
    await ctx.recorder.sync();
    return (performance.now() - start) / runs;
  } finally {
    src.dispose();
    weight.dispose();
  }
}

function layerName(g: Conv2dGeometry): string {
  return `${g.batch}x${g.inChannels}x${g.inH}x${g.inW} -> ${g.outChannels}, ${g.kernelH}x${g.kernelW}${g.strideH > 1 ? ` s${g.strideH}` : ''}${g.groups > 1 ? ` g${g.groups}` : ''}`;
}

/**
 * What was measured, one line per layer: "forward 32x64x224x224 -> 64, 3x3: 128x128x16 (3.10 ms;
 * 64x64x16 4.20, ...)", or one line saying that nothing here runs the tiled kernel.
 */
export function describeTuning(layers: readonly TunedLayer[]): string[] {
  if (layers.length === 0) return ['no layer runs the tiled GPU convolution here (a CPU adapter, or a tile forced by WGT_CONV_TILE)'];
  return layers.map((layer) => {
    const best = layer.timings.find((t) => t.tile === layer.chosen)!;
    const others = layer.timings.filter((t) => t !== best).map((t) => `${t.tile} ${t.ms.toFixed(2)}`);
    return `${layer.role.replace('_', ' ')} ${layer.layer}: ${layer.chosen} (${best.ms.toFixed(2)} ms; ${others.join(', ')})`;
  });
}

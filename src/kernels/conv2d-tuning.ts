import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { forwardConv, inputGradConv, type Conv2dGeometry, type SlidingConv } from './conv2d-common.js';
import { chooseConvVariant, runConv2dForward, runConv2dInputGrad } from './conv2d-implicit-gemm.js';
import { winogradApplies } from './conv2d-winograd.js';
import { chooseWeightGradVariant, runConv2dWeightGrad } from './conv2d-weight-grad.js';
import {
  layerKey, listenForConvolutions, measuredAlgorithm, measuredTile, setMeasuredAlgorithm, setMeasuredTile, stopListening, tileBytes, tileName,
  weightGradTileBytes, weightGradTileName, type ConvAlgorithm, type ConvTile, type TiledRole, type WeightGradTile,
} from './conv2d-tile.js';

/**
 * Chooses the tiles of the tiled convolution kernels layer by layer by timing the candidates on
 * this GPU, as PyTorch's `torch.backends.cudnn.benchmark` chooses cuDNN's algorithms. Which tile
 * is fastest depends on the GPU (its banks, registers, cores) and on the layer (few channels
 * waste a wide tile), and no software adapter here can tell. Every tile sums in the same order,
 * so the choice changes no result (conv2d-tile.ts).
 *
 * It costs a few runs of every candidate on every layer once, before training: VGG16 has 9
 * distinct layer shapes, 3 roles each. CPU adapters run the blocked kernels, which have no tile:
 * there is nothing to tune.
 *
 * With GpuContextOptions.convAlgorithm 'fastest' it also times Winograd's F(2x2, 3x3) against
 * the direct kernel (with the tile just chosen) on each 3x3 stride-1 layer's forward and input
 * gradient, and keeps the faster: like cudnn.benchmark, a choice that can change the rounding.
 */
export const TILE_CANDIDATES: readonly ConvTile[] = [
  { channels: 64, pixels: 64, depth: 16 },
  { channels: 64, pixels: 64, depth: 32 },
  { channels: 128, pixels: 64, depth: 16 },
  { channels: 64, pixels: 128, depth: 16 },
  { channels: 128, pixels: 128, depth: 16 },
];

export const WEIGHT_GRAD_TILE_CANDIDATES: readonly WeightGradTile[] = [
  { channels: 64, taps: 64 },
  { channels: 128, taps: 64 },
  { channels: 64, taps: 128 },
  { channels: 128, taps: 128 },
];

export interface TuneOptions {
  /** Tiles to time; those the adapter's workgroup memory cannot hold are left out. */
  candidates?: readonly ConvTile[];
  weightGradCandidates?: readonly WeightGradTile[];
  /** Timed runs per candidate, after one that compiles and warms it. */
  runs?: number;
  /** Which kernels: the forward pass, and the input and weight gradients a trained layer also runs. */
  roles?: readonly TiledRole[];
  /**
   * Keep what this context already has for a kernel (tuned before, or restored from a file by
   * `restoreChoices`) instead of timing it again. Default false: every kernel is timed.
   */
  reuse?: boolean;
}

export interface TunedLayer {
  role: TiledRole;
  /** The layer as "images x channels x H x W -> channels, KxK". */
  layer: string;
  /** Milliseconds per run of each candidate, in the order timed (none when reused). */
  timings: { tile: string; ms: number }[];
  chosen: string;
  /** The choice was already made on this context (TuneOptions.reuse): nothing was timed. */
  reused?: boolean;
}

/** One kernel of one layer to tune: its candidates by name, how to run it with one, and how to keep the fastest. */
interface Tunable<T> {
  role: TiledRole;
  candidates: readonly T[];
  name: (candidate: T) => string;
  /** Shapes of the operands, made once for all candidates. */
  operands: number[][];
  run: (operands: Tensor[], candidate: T) => Tensor;
  keep: (candidate: T) => void;
  /** The choice this context already has for the kernel, if any. */
  known: () => T | undefined;
}

/**
 * Times the candidate tiles on every convolution `runModel` performs, and makes each layer run
 * with its fastest from now on (in this context). `runModel` should run the model's forward pass
 * on a batch of the shape it will train on, under noGrad and in eval mode (batch norm's running
 * statistics are not updated); it is recorded but never submitted. A tile forced by
 * GpuContextOptions.convTile stays: the forward and input gradient are then not tuned. Returns
 * what was measured.
 */
export async function tuneConvTiles(ctx: GpuContext, runModel: () => void, options: TuneOptions = {}): Promise<TunedLayer[]> {
  const runs = options.runs ?? 3;
  const roles = (options.roles ?? ['forward', 'input_grad', 'weight_grad']).filter((role) => role === 'weight_grad' || !ctx.convTile);
  const report: TunedLayer[] = [];
  for (const g of convolutionsOf(ctx, runModel)) {
    for (const role of roles) {
      const tunables = role === 'weight_grad' ? [weightGradTunable(ctx, g, options)] : [convTunable(ctx, role, g, options), algorithmTunable(ctx, role, g)];
      for (const tunable of tunables as (Tunable<unknown> | null)[]) {
        if (!tunable) continue;
        const known = options.reuse ? tunable.known() : undefined;
        report.push(known !== undefined ? { role, layer: layerName(g), timings: [], chosen: tunable.name(known), reused: true } : await tune(ctx, tunable, g, runs));
      }
    }
  }
  await ctx.recorder.sync();
  ctx.pool.trim(); // the timed layers' operands: training would inherit them as its peak
  return report;
}

async function tune<T>(ctx: GpuContext, tunable: Tunable<T>, g: Conv2dGeometry, runs: number): Promise<TunedLayer> {
  const operands = tunable.operands.map((shape) => Tensor.empty(ctx, shape));
  try {
    const timings: TunedLayer['timings'] = [];
    for (const tile of tunable.candidates) timings.push({ tile: tunable.name(tile), ms: await timeRuns(ctx, () => tunable.run(operands, tile).dispose(), runs) });
    const best = timings.reduce((a, b) => (b.ms < a.ms ? b : a));
    tunable.keep(tunable.candidates[timings.indexOf(best)]!);
    return { role: tunable.role, layer: layerName(g), timings, chosen: best.tile };
  } finally {
    for (const t of operands) t.dispose();
  }
}

function convTunable(ctx: GpuContext, role: 'forward' | 'input_grad', g: Conv2dGeometry, options: TuneOptions): Tunable<ConvTile> | null {
  const conv = role === 'forward' ? forwardConv(g) : inputGradConv(g);
  if (chooseConvVariant(ctx, conv) !== 'tiled') return null;
  const fills = (tile: ConvTile) => wideOnlyWhereFilled(tile.channels, conv.outPerGroup) && wideOnlyWhereFilled(tile.pixels, conv.images * conv.outH * conv.outW);
  const candidates = (options.candidates ?? TILE_CANDIDATES).filter((tile) => tileBytes(tile) <= ctx.limits.maxComputeWorkgroupStorageSize && fills(tile));
  if (candidates.length < 2) return null;
  return {
    role, candidates, name: tileName,
    operands: [[conv.images, conv.srcChannels, conv.srcH, conv.srcW], weightShape(g)],
    run: ([src, weight], tile) => runConv(role, g, src!, weight!, { algorithm: 'direct', variant: 'tiled', tile }),
    keep: (tile) => setMeasuredTile(ctx, layerKey(role, conv), tile),
    known: () => measuredTile(ctx, layerKey(role, conv)) as ConvTile | undefined,
  };
}

/** Direct or Winograd for a layer's forward or input gradient (convAlgorithm 'fastest' only). */
function algorithmTunable(ctx: GpuContext, role: 'forward' | 'input_grad', g: Conv2dGeometry): Tunable<ConvAlgorithm> | null {
  const conv = role === 'forward' ? forwardConv(g) : inputGradConv(g);
  if (ctx.convAlgorithm !== 'fastest' || ctx.kernelTarget !== 'gpu' || !winogradApplies(ctx, conv)) return null;
  return {
    role, candidates: ['direct', 'winograd'], name: (algorithm) => algorithm,
    operands: [[conv.images, conv.srcChannels, conv.srcH, conv.srcW], weightShape(g)],
    run: ([src, weight], algorithm) => runConv(role, g, src!, weight!, { algorithm }),
    keep: (algorithm) => setMeasuredAlgorithm(ctx, layerKey(role, conv), algorithm),
    known: () => measuredAlgorithm(ctx, layerKey(role, conv)),
  };
}

const runConv = (role: 'forward' | 'input_grad', g: Conv2dGeometry, src: Tensor, weight: Tensor, options: Parameters<typeof runConv2dInputGrad>[3]) =>
  role === 'forward' ? runConv2dForward(src, weight, undefined, g, options) : runConv2dInputGrad(src, weight, g, options);

function weightGradTunable(ctx: GpuContext, g: Conv2dGeometry, options: TuneOptions): Tunable<WeightGradTile> | null {
  if (chooseWeightGradVariant(ctx, g) !== 'tiled') return null;
  const taps = (g.inChannels / g.groups) * g.kernelH * g.kernelW;
  const fills = (tile: WeightGradTile) => wideOnlyWhereFilled(tile.channels, g.outChannels / g.groups) && wideOnlyWhereFilled(tile.taps, taps);
  const candidates = (options.weightGradCandidates ?? WEIGHT_GRAD_TILE_CANDIDATES).filter((tile) => weightGradTileBytes(tile) <= ctx.limits.maxComputeWorkgroupStorageSize && fills(tile));
  if (candidates.length < 2) return null;
  return {
    role: 'weight_grad', candidates, name: weightGradTileName,
    operands: [[g.batch, g.inChannels, g.inH, g.inW], [g.batch, g.outChannels, g.outH, g.outW]],
    run: ([x, dy], tile) => runConv2dWeightGrad(x!, dy!, g, 'tiled', tile),
    keep: (tile) => setMeasuredTile(ctx, layerKey('weight_grad', g), tile),
    known: () => measuredTile(ctx, layerKey('weight_grad', g)) as WeightGradTile | undefined,
  };
}

/** A tile 128 wide along a dimension only where the layer has more than 64 of it. */
const wideOnlyWhereFilled = (width: number, extent: number) => width === 64 || extent > 64;

const weightShape = (g: Conv2dGeometry) => [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW];

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

/**
 * Milliseconds per call of `run`, from timestamp queries where the adapter has them (and no
 * profile is being taken, whose queries these would end), else from the wall clock around the
 * calls. The operands' values do not matter (a GPU's time does not depend on them): they are
 * whatever the pool's buffers hold.
 */
async function timeRuns(ctx: GpuContext, run: () => void, runs: number): Promise<number> {
  run(); // compiles the pipelines and warms the caches
  await ctx.recorder.sync();
  if (ctx.hasFeature('timestamp-query') && !ctx.recorder.profiler) {
    ctx.startProfiling();
    for (let i = 0; i < runs; i++) run();
    const timings = await ctx.stopProfiling();
    return timings.reduce((sum, t) => sum + (t.endNs - t.startNs), 0) / 1e6 / runs;
  }
  const start = performance.now();
  for (let i = 0; i < runs; i++) run();
  await ctx.recorder.sync();
  return (performance.now() - start) / runs;
}

function layerName(g: Conv2dGeometry): string {
  return `${g.batch}x${g.inChannels}x${g.inH}x${g.inW} -> ${g.outChannels}, ${g.kernelH}x${g.kernelW}${g.strideH > 1 ? ` s${g.strideH}` : ''}${g.groups > 1 ? ` g${g.groups}` : ''}`;
}

/**
 * What was measured, one line per layer: "forward 32x64x224x224 -> 64, 3x3: 128x128x16 (3.10 ms;
 * 64x64x16 4.20, ...)", then one line for the kernels kept from before (TuneOptions.reuse); or one
 * line saying that nothing here runs a tiled kernel.
 */
export function describeTuning(layers: readonly TunedLayer[]): string[] {
  if (layers.length === 0) return ['no layer runs a tiled GPU convolution kernel here (a CPU adapter, or layers too small for them)'];
  const timed = layers.filter((layer) => !layer.reused).map((layer) => {
    const best = layer.timings.find((t) => t.tile === layer.chosen)!;
    const others = layer.timings.filter((t) => t !== best).map((t) => `${t.tile} ${t.ms.toFixed(2)}`);
    return `${layer.role.replace('_', ' ')} ${layer.layer}: ${layer.chosen} (${best.ms.toFixed(2)} ms; ${others.join(', ')})`;
  });
  const reused = layers.length - timed.length;
  return reused > 0 ? [...timed, `${reused} of ${layers.length} kernels as measured before on this adapter, not timed again`] : timed;
}

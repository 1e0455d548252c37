import type { GpuContext } from '../runtime/context.js';
import { ShapeError } from '../runtime/errors.js';
import { paddedRowQuads } from './wgsl.js';
import type { Conv2dGeometry, SlidingConv } from './conv2d-common.js';

// The tiles of the GPU ('tiled') convolution kernels, forward / input gradient and weight
// gradient, and how a layer's tile is chosen: forced, else measured on this GPU, else a default.

/** The two convolutions the implicit-GEMM kernels compute (conv2d-implicit-gemm.ts). */
export type ConvRole = 'forward' | 'input_grad';
/** ...and the weight gradient (conv2d-weight-grad.ts), whose tiled kernel has tiles too. */
export type TiledRole = ConvRole | 'weight_grad';

/**
 * The tiled kernel's tile: `channels` output channels × `pixels` output pixels per workgroup of
 * 16×16 invocations, each owning (channels / 16) × (pixels / 16) outputs, and `depth` reduction
 * steps staged per barrier pair. Every tile sums each output in the same order (r = 0, 1, 2, ...
 * of conv2d-filter-matrix.ts's order), so the choice changes the speed, never a bit of the result.
 *
 * Measured on an H200 (bench/reports/h200-2026-11-27, VGG16 224x224 batch 32 training step):
 * 64×64 148 img/s, 128×128 120; per kernel at batch 4, 64×64 was as fast or faster on every
 * VGG16 shape (11.7 TFLOP/s at 64 channels 224x224, where 64×128 gave 2.6 and 128×128 5.2).
 * Those figures predate the kernel's present layout: the larger tiles' invocations then read 2
 * adjacent vec4s each (a 2-way bank conflict on every read), and every tile stored its weights
 * with a 16-way conflict. Which tile is fastest depends on the GPU and the layer, so it can be
 * measured per layer (`tuneConvTiles`, conv2d-tuning.ts) or forced (GpuContextOptions.convTile,
 * WGT_CONV_TILE).
 */
export interface ConvTile {
  channels: 64 | 128;
  pixels: 64 | 128;
  depth: 16 | 32;
}

export const DEFAULT_CONV_TILE: ConvTile = { channels: 64, pixels: 64, depth: 16 };

export const tileName = (tile: ConvTile) => `${tile.channels}x${tile.pixels}x${tile.depth}`;

/** Workgroup memory the tile stages: the padded weight rows and the source rows, `depth` of each. */
export function tileBytes(tile: ConvTile): number {
  return 16 * tile.depth * (paddedRowQuads(tile.channels) + tile.pixels / 4);
}

/**
 * The tiled weight gradient's tile: `channels` output channels × `taps` (ci, kh, kw) of a filter
 * per workgroup of 16×16 invocations, each owning (channels / 16) × (taps / 16) of them, with 16
 * pixels staged per step. Every tile splits and sums the pixels the same way: the same bits.
 */
export interface WeightGradTile {
  channels: 64 | 128;
  taps: 64 | 128;
}

export const DEFAULT_WEIGHT_GRAD_TILE: WeightGradTile = { channels: 64, taps: 64 };

export const weightGradTileName = (tile: WeightGradTile) => `${tile.channels}x${tile.taps}`;

/** Workgroup memory the weight-gradient tile stages: 16 pixels of padded dy rows and of window rows. */
export function weightGradTileBytes(tile: WeightGradTile): number {
  return 16 * 16 * (paddedRowQuads(tile.channels) + tile.taps / 4);
}

/** Tiles measured on a context's GPU, by `layerKey`: filled by `tuneConvTiles`. */
const measured = new WeakMap<GpuContext, Map<string, ConvTile | WeightGradTile>>();

/** A layer's key: its role and the shape its kernel sees (a SlidingConv, or the geometry for the weight gradient). */
export const layerKey = (role: TiledRole, shape: SlidingConv | Conv2dGeometry) => `${role} ${JSON.stringify(shape)}`;

export function setMeasuredTile(ctx: GpuContext, key: string, tile: ConvTile | WeightGradTile): void {
  let tiles = measured.get(ctx);
  if (!tiles) measured.set(ctx, (tiles = new Map()));
  tiles.set(key, tile);
}

/** The tile a layer runs with: the forced one (convTile), else the one measured for it, else the default. */
export function chooseConvTile(ctx: GpuContext, role?: ConvRole, conv?: SlidingConv): ConvTile {
  const forced = ctx.convTile;
  if (forced) {
    const bytes = tileBytes(forced);
    if (bytes > ctx.limits.maxComputeWorkgroupStorageSize) {
      throw new ShapeError(`conv2d tile ${tileName(forced)} stages ${bytes} bytes; this adapter allows ${ctx.limits.maxComputeWorkgroupStorageSize} per workgroup`);
    }
    return forced;
  }
  const tile = role && conv ? measured.get(ctx)?.get(layerKey(role, conv)) : undefined;
  return (tile as ConvTile | undefined) ?? DEFAULT_CONV_TILE;
}

/**
 * How a convolution is computed: 'direct', the implicit GEMM (conv2d-implicit-gemm.ts), or
 * 'winograd', F(2x2, 3x3) around a grouped 1x1 product (conv2d-winograd.ts), for the 3x3
 * stride-1 layers it applies to.
 */
export type ConvAlgorithm = 'direct' | 'winograd';

/** Algorithms measured fastest per layer (`layerKey`), by the tuner when convAlgorithm is 'fastest'. */
const measuredAlgorithms = new WeakMap<GpuContext, Map<string, ConvAlgorithm>>();

export function setMeasuredAlgorithm(ctx: GpuContext, key: string, algorithm: ConvAlgorithm): void {
  let algorithms = measuredAlgorithms.get(ctx);
  if (!algorithms) measuredAlgorithms.set(ctx, (algorithms = new Map()));
  algorithms.set(key, algorithm);
}

/**
 * A layer's convolution algorithm: Winograd where forced (convAlgorithm 'winograd'), the one
 * measured fastest for it where the tuner chose ('fastest'), else direct.
 */
export function chooseConvAlgorithm(ctx: GpuContext, role: ConvRole, conv: SlidingConv): ConvAlgorithm {
  if (ctx.convAlgorithm === 'winograd') return 'winograd';
  if (ctx.convAlgorithm === 'fastest') return measuredAlgorithms.get(ctx)?.get(layerKey(role, conv)) ?? 'direct';
  return 'direct';
}

/**
 * What the tuner chose on a context, by `layerKey`: the tiles, and (convAlgorithm 'fastest') the
 * algorithms. Plain data, so that a Node run can keep it in a file for the next run on the same
 * adapter (train/tuning-file-node.ts) instead of timing every candidate again.
 */
export interface TunedChoices {
  tiles: Record<string, ConvTile | WeightGradTile>;
  algorithms: Record<string, ConvAlgorithm>;
}

export function measuredChoices(ctx: GpuContext): TunedChoices {
  return {
    tiles: Object.fromEntries(measured.get(ctx) ?? []),
    algorithms: Object.fromEntries(measuredAlgorithms.get(ctx) ?? []),
  };
}

/** Makes the context run with choices measured before (by this engine, on this adapter). */
export function restoreChoices(ctx: GpuContext, choices: TunedChoices): void {
  for (const [key, tile] of Object.entries(choices.tiles)) setMeasuredTile(ctx, key, tile);
  for (const [key, algorithm] of Object.entries(choices.algorithms)) setMeasuredAlgorithm(ctx, key, algorithm);
}

/** The tile, or algorithm, measured for a layer on this context; undefined if none was. */
export function measuredTile(ctx: GpuContext, key: string): ConvTile | WeightGradTile | undefined {
  return measured.get(ctx)?.get(key);
}

export function measuredAlgorithm(ctx: GpuContext, key: string): ConvAlgorithm | undefined {
  return measuredAlgorithms.get(ctx)?.get(key);
}

/** The weight gradient's tile for layer `g`: the one measured for it, else the default. */
export function chooseWeightGradTile(ctx: GpuContext, g: Conv2dGeometry): WeightGradTile {
  return (measured.get(ctx)?.get(layerKey('weight_grad', g)) as WeightGradTile | undefined) ?? DEFAULT_WEIGHT_GRAD_TILE;
}

/** While a tuner listens on a context: the convolutions it runs, by their geometry's JSON. */
const listeners = new WeakMap<GpuContext, Map<string, Conv2dGeometry>>();

export function listenForConvolutions(ctx: GpuContext): Map<string, Conv2dGeometry> {
  const seen = new Map<string, Conv2dGeometry>();
  listeners.set(ctx, seen);
  return seen;
}

export function stopListening(ctx: GpuContext): void {
  listeners.delete(ctx);
}

/** Called by every forward convolution: a listening tuner notes the layer. */
export function noteConvolution(ctx: GpuContext, g: Conv2dGeometry): void {
  listeners.get(ctx)?.set(JSON.stringify(g), g);
}

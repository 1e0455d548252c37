import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext, conv2d, createNodeGpu, noGrad, tensor, tidy, type Tensor } from '../../src/node.js';
import { randomArray } from '../helpers/reference.js';
import { describeTuning, tuneConvTiles, TILE_CANDIDATES, WEIGHT_GRAD_TILE_CANDIDATES } from '../../src/kernels/conv2d-tuning.js';
import { measuredChoices, restoreChoices, tileBytes, tileName, weightGradTileBytes, weightGradTileName, type ConvTile } from '../../src/kernels/conv2d-tile.js';
import { runConv2dForward, runConv2dInputGrad } from '../../src/kernels/conv2d-implicit-gemm.js';
import { runConv2dWeightGrad } from '../../src/kernels/conv2d-weight-grad.js';
import type { Conv2dGeometry } from '../../src/kernels/conv2d-common.js';

// The tiled convolution's per-layer tile choice, on whatever adapter the tests run (the GPU
// kernels are forced: lavapipe would otherwise run the blocked ones, which have no tile).

const random = (shape: number[], seed: number, on = ctx) => tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape, { ctx: on });
const dispatchesOf = (ctx: GpuContext, name: string) => ctx.recorder.stats.perKernel.get(name) ?? 0;

let ctx: GpuContext;
let x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor;
beforeAll(async () => {
  ctx = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
  // Two layers the tiled kernel runs: 8 -> 96 channels (wide enough for 128-channel tiles) and
  // 96 -> 32, on 2 images of 16x16 (512 output pixels).
  x = random([2, 8, 16, 16], 1);
  w1 = random([96, 8, 3, 3], 2);
  b1 = random([96], 3);
  w2 = random([32, 96, 3, 3], 4);
});
afterAll(() => ctx.destroy());

const model = () => conv2d(conv2d(x, w1, b1, { padding: 1 }), w2, undefined, { padding: 1 });

describe('tuning the tiled convolution per layer', () => {
  it('times every candidate that fits on every layer and role, then runs each layer with its fastest', async () => {
    const submitsBefore = ctx.recorder.stats.submits;
    const report = await tuneConvTiles(ctx, () => noGrad(() => tidy(() => void model())), { runs: 1 });
    expect(ctx.recorder.stats.submits).toBeGreaterThan(submitsBefore);
    // The first layer's input gradient has 8 output channels: the blocked kernel runs it, untiled.
    expect(report.map((r) => `${r.role} ${r.layer}`)).toEqual([
      'forward 2x8x16x16 -> 96, 3x3',
      'weight_grad 2x8x16x16 -> 96, 3x3',
      'forward 2x96x16x16 -> 32, 3x3',
      'input_grad 2x96x16x16 -> 32, 3x3',
      'weight_grad 2x96x16x16 -> 32, 3x3',
    ]);
    const limit = ctx.limits.maxComputeWorkgroupStorageSize;
    const fitting = TILE_CANDIDATES.filter((tile) => tileBytes(tile) <= limit);
    const fittingWeightGrad = WEIGHT_GRAD_TILE_CANDIDATES.filter((tile) => weightGradTileBytes(tile) <= limit);
    const names = (tiles: readonly ConvTile[]) => tiles.map(tileName);
    // 96 output channels (the first forward, the second input gradient): every fitting tile;
    // 32 (the second forward): none 128 channels wide, which would leave most of it idle.
    expect(report[0]!.timings.map((t) => t.tile)).toEqual(names(fitting));
    expect(report[2]!.timings.map((t) => t.tile)).toEqual(names(fitting.filter((tile) => tile.channels === 64)));
    expect(report[3]!.timings.map((t) => t.tile)).toEqual(names(fitting));
    // Weight gradients: 96 channels × 72 taps, every tile; 32 channels × 864 taps, 64 channels wide.
    expect(report[1]!.timings.map((t) => t.tile)).toEqual(fittingWeightGrad.map(weightGradTileName));
    expect(report[4]!.timings.map((t) => t.tile)).toEqual(fittingWeightGrad.filter((tile) => tile.channels === 64).map(weightGradTileName));
    for (const r of report) {
      for (const t of r.timings) expect(t.ms).toBeGreaterThan(0);
      expect(r.chosen).toBe(r.timings.reduce((a, b) => (b.ms < a.ms ? b : a)).tile);
    }

    const chosen = `conv2d.forward.tiled${report[0]!.chosen}`;
    const before = dispatchesOf(ctx, chosen);
    tidy(() => void model().read());
    await ctx.recorder.sync();
    expect(dispatchesOf(ctx, chosen)).toBe(before + (report[2]!.chosen === report[0]!.chosen ? 2 : 1));
  });

  it('runs a layer with the tile measured for it, not the default', async () => {
    const tuned = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
    try {
      const xt = random([2, 8, 16, 16], 1, tuned);
      const wt = random([96, 8, 3, 3], 2, tuned);
      const layer = () => conv2d(xt, wt, undefined, { padding: 1 });
      const candidates = [{ channels: 128, pixels: 64, depth: 16 }, { channels: 64, pixels: 128, depth: 16 }] as const;
      const [report] = await tuneConvTiles(tuned, () => noGrad(() => tidy(() => void layer())), { candidates, runs: 1, roles: ['forward'] });
      expect(report!.timings.map((t) => t.tile)).toEqual(['128x64x16', '64x128x16']);
      const chosen = `conv2d.forward.tiled${report!.chosen}`;
      const before = [dispatchesOf(tuned, chosen), dispatchesOf(tuned, 'conv2d.forward.tiled64x64x16')];
      layer();
      await tuned.recorder.sync();
      expect([dispatchesOf(tuned, chosen), dispatchesOf(tuned, 'conv2d.forward.tiled64x64x16')]).toEqual([before[0]! + 1, before[1]]);
    } finally {
      tuned.destroy();
    }
  });

  it('keeps a choice the context has (tuned, or restored from another context) when asked to reuse, and times the rest', async () => {
    const layer = (on: GpuContext, cin: number) => {
      const xt = random([2, cin, 16, 16], 1, on);
      const wt = random([96, cin, 3, 3], 2, on);
      return () => noGrad(() => tidy(() => void conv2d(xt, wt, undefined, { padding: 1 })));
    };
    const first = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
    const second = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
    try {
      const [measured] = await tuneConvTiles(first, layer(first, 8), { runs: 1, roles: ['forward'] });
      expect(measured!.reused).toBeUndefined();
      restoreChoices(second, measuredChoices(first));
      // The same layer is reused on the other context; a layer of another shape is timed.
      const again = await tuneConvTiles(second, () => (layer(second, 8)(), layer(second, 16)()), { runs: 1, roles: ['forward'], reuse: true });
      expect(again.map((r) => [r.layer, r.reused ?? false, r.timings.length > 1])).toEqual([
        ['2x8x16x16 -> 96, 3x3', true, false],
        ['2x16x16x16 -> 96, 3x3', false, true],
      ]);
      expect(again[0]!.chosen).toBe(measured!.chosen);
      expect(describeTuning(again)).toEqual([
        expect.stringMatching(/^forward 2x16x16x16 -> 96, 3x3: \d+x\d+x\d+ \([\d.]+ ms; /),
        '1 of 2 kernels as measured before on this adapter, not timed again',
      ]);
      // Without reuse, every layer is timed again.
      expect((await tuneConvTiles(second, layer(second, 8), { runs: 1, roles: ['forward'] }))[0]!.reused).toBeUndefined();
    } finally {
      first.destroy();
      second.destroy();
    }
  });

  it('gives the same bits with every tile: each output is summed in the same order', async () => {
    const g: Conv2dGeometry = {
      batch: 2, inChannels: 8, inH: 16, inW: 16, outChannels: 96, outH: 16, outW: 16,
      kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1,
    };
    const dy = random([2, 96, 16, 16], 6);
    const results: { tile: string; y: Buffer; dx: Buffer }[] = [];
    const bytes = async (t: Tensor) => Buffer.from((await t.read()).buffer);
    for (const tile of TILE_CANDIDATES.filter((t) => tileBytes(t) <= ctx.limits.maxComputeWorkgroupStorageSize)) {
      const y = runConv2dForward(x, w1, b1, g, { variant: 'tiled', tile });
      const dx = runConv2dInputGrad(dy, w1, g, { variant: 'tiled', tile });
      results.push({ tile: tileName(tile), y: await bytes(y), dx: await bytes(dx) });
      y.dispose();
      dx.dispose();
    }
    expect(results.length).toBeGreaterThan(2);
    for (const r of results.slice(1)) {
      expect(r.y.equals(results[0]!.y), `y, ${r.tile} vs ${results[0]!.tile}`).toBe(true);
      expect(r.dx.equals(results[0]!.dx), `dx, ${r.tile} vs ${results[0]!.tile}`).toBe(true);
    }
    // The weight gradient: every tile splits the pixels into the same partial sums.
    const dws: { tile: string; dw: Buffer }[] = [];
    for (const tile of WEIGHT_GRAD_TILE_CANDIDATES.filter((t) => weightGradTileBytes(t) <= ctx.limits.maxComputeWorkgroupStorageSize)) {
      const dw = runConv2dWeightGrad(x, dy, g, 'tiled', tile);
      dws.push({ tile: weightGradTileName(tile), dw: await bytes(dw) });
      dw.dispose();
    }
    expect(dws.length).toBe(4);
    for (const r of dws.slice(1)) expect(r.dw.equals(dws[0]!.dw), `dw, ${r.tile} vs ${dws[0]!.tile}`).toBe(true);
    dy.dispose();
  });

  it("with convAlgorithm 'fastest', also times Winograd on each 3x3 layer and runs it where it won", async () => {
    const fastest = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu', convAlgorithm: 'fastest' });
    try {
      const xf = random([2, 8, 16, 16], 1, fastest);
      const wf = random([96, 8, 3, 3], 2, fastest);
      const layer = () => conv2d(xf, wf, undefined, { padding: 1 });
      const report = await tuneConvTiles(fastest, () => noGrad(() => tidy(() => void layer())), { runs: 1, roles: ['forward', 'input_grad'] });
      // The forward's tiles, then direct (with the tile just chosen) against Winograd; the input
      // gradient (8 output channels) has no tile to tune, but an algorithm.
      expect(report.map((r) => `${r.role}: ${r.timings.map((t) => t.tile).join(' ')}`)).toEqual([
        expect.stringMatching(/^forward: 64x64x16 /),
        'forward: direct winograd',
        'input_grad: direct winograd',
      ]);
      const forward = report[1]!;
      expect(forward.chosen).toBe(forward.timings.reduce((a, b) => (b.ms < a.ms ? b : a)).tile);
      const before = dispatchesOf(fastest, 'conv2d.winograd.output');
      layer();
      await fastest.recorder.sync();
      expect(dispatchesOf(fastest, 'conv2d.winograd.output') - before).toBe(forward.chosen === 'winograd' ? 1 : 0);
    } finally {
      fastest.destroy();
    }
  });

  it('leaves a forced convolution tile alone', async () => {
    const forced = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu', convTile: { channels: 64, pixels: 128, depth: 16 } });
    try {
      const xf = random([2, 8, 16, 16], 1, forced);
      const wf = random([96, 8, 3, 3], 2, forced);
      // Only the weight gradient, which the forced tile does not concern, is tuned.
      const report = await tuneConvTiles(forced, () => noGrad(() => tidy(() => void conv2d(xf, wf, undefined, { padding: 1 }))), { runs: 1 });
      expect(report.map((r) => r.role)).toEqual(['weight_grad']);
      const before = dispatchesOf(forced, 'conv2d.forward.tiled64x128x16');
      conv2d(xf, wf, undefined, { padding: 1 });
      await forced.recorder.sync();
      expect(dispatchesOf(forced, 'conv2d.forward.tiled64x128x16')).toBe(before + 1);
    } finally {
      forced.destroy();
    }
  });
});

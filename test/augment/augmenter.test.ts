import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { GpuContext } from '../../src/runtime/context.js';
import { createNodeGpu } from '../../src/runtime/node-gpu.js';
import { imageInBatch, packBatch, type ImageBatch } from '../../src/data/pack-batch.js';
import { Augmenter } from '../../src/data/augment/augmenter.js';
import { resolveOptions, type TrainTransformOptions } from '../../src/data/augment/options.js';
import { augmentDraws, resizeCenterCrop, sampleParams, type SampleParams } from '../../src/data/augment/params.js';

/** Images of odd sizes (so most start at padded, unaligned-looking offsets) with a seeded pattern. */
function syntheticBatch(sizes: readonly [number, number][], firstIndex = 0): ImageBatch {
  return packBatch(
    sizes.map(([width, height], i) => {
      const pixels = new Uint8Array(width * height * 3);
      for (let p = 0; p < pixels.length; p++) pixels[p] = (p * 7 + i * 31 + ((p / 3 / width) | 0) * 5) & 0xff;
      return { pixels, width, height, label: i % 2, path: `synthetic/${i}`, sampleIndex: firstIndex + i };
    }),
  );
}

const EVERYTHING: TrainTransformOptions = {
  horizontalFlip: 0.5,
  verticalFlip: 0.5,
  rotation: 30,
  rotationFill: [0, 128, 255],
  colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
};

describe('Augmenter', () => {
  it('is reproducible: same seed, epoch and sample index give the same parameters and pixels', async () => {
    const ctx = await testContext();
    const batch = syntheticBatch([[37, 29], [20, 45], [64, 48]]);
    const augmenter = new Augmenter(ctx, { outputSize: 24, train: EVERYTHING });
    const a = augmenter.apply(batch, { seed: 11, epoch: 3 });
    const b = augmenter.apply(batch, { seed: 11, epoch: 3 });
    const c = augmenter.apply(batch, { seed: 11, epoch: 4 });
    expect(b.params).toEqual(a.params);
    expect(c.params).not.toEqual(a.params);
    expect(Array.from(await b.images.read())).toEqual(Array.from(await a.images.read()));
    // A sample's parameters depend on its index, not on its place in the batch.
    const reversed = augmenter.params(reorder(batch, [2, 1, 0]), { seed: 11, epoch: 3 });
    expect(reversed).toEqual([a.params[2], a.params[1], a.params[0]]);
    for (const r of [a, b, c]) r.images.dispose();
    augmenter.dispose();
  });

  it('draws parameters within torchvision bounds and with the right frequencies', () => {
    const options = resolveOptions({ outputSize: 224, train: EVERYTHING });
    const source = { width: 500, height: 375 };
    const n = 4000;
    const params = Array.from({ length: n }, (_, i) => sampleParams(options, source, i, augmentDraws(5, 0, i)));
    let flips = 0;
    let vflips = 0;
    let fallbacks = 0;
    let angleSum = 0;
    const orders = new Set<string>();
    const outOfBounds: SampleParams[] = [];
    for (const p of params) {
      if (p.geometry.kind !== 'resized-crop') throw new Error('training geometry expected');
      const { top, left, height, width } = p.geometry.crop;
      let ok = top >= 0 && left >= 0 && top + height <= 375 && left + width <= 500;
      if (height === 375 && width === 500) fallbacks++;
      else {
        // Rounding w and h to integers moves area and ratio by about a pixel's worth at most.
        const area = (height * width) / (375 * 500);
        ok &&= area >= 0.08 * (1 - 2 / height) && area <= 1;
        ok &&= width / height >= 0.75 * (1 - 2 / height) && width / height <= (4 / 3) * (1 + 2 / height);
      }
      ok &&= Math.abs(p.angle) <= 30;
      ok &&= p.color.map((c) => c.op).sort().join() === 'brightness,contrast,hue,saturation';
      ok &&= p.color.every(({ op, factor }) => (op === 'hue' ? Math.abs(factor) <= 0.1 : factor >= 0.6 && factor <= 1.4));
      if (!ok) outOfBounds.push(p);
      flips += Number(p.horizontalFlip);
      vflips += Number(p.verticalFlip);
      angleSum += p.angle;
      orders.add(p.color.map((c) => c.op[0]).join(''));
    }
    expect(outOfBounds).toEqual([]);
    // Binomial(4000, 0.5): standard deviation ~32.
    expect(Math.abs(flips - n / 2)).toBeLessThan(160);
    expect(Math.abs(vflips - n / 2)).toBeLessThan(160);
    expect(Math.abs(angleSum / n)).toBeLessThan(1.5); // uniform on [-30, 30]: sd of the mean ~0.27
    expect(orders.size).toBe(24); // every order of the four ops occurs
    // For a 4:3 image almost every first attempt succeeds (torchvision falls back < 1% of the time).
    expect(fallbacks).toBeLessThan(n * 0.01);
  });

  it('creates no buffers per batch once warm (pool stats)', async () => {
    const ctx = await testContext();
    const augmenter = new Augmenter(ctx, { outputSize: 32, train: EVERYTHING });
    const run = (epoch: number, sizes: [number, number][]): void => {
      const { images } = augmenter.apply(syntheticBatch(sizes), { seed: 1, epoch });
      images.dispose();
    };
    const sizes: [number, number][] = [[50, 37], [37, 50], [41, 41], [45, 30]];
    run(0, sizes);
    run(1, sizes);
    await ctx.recorder.sync();
    const created = ctx.pool.stats.created;
    const pipelines = ctx.pipelines.size;
    for (let epoch = 2; epoch < 8; epoch++) run(epoch, epoch % 2 ? sizes : [...sizes].reverse());
    await ctx.recorder.sync();
    expect(ctx.pool.stats.created).toBe(created);
    expect(ctx.pipelines.size).toBe(pipelines);
    augmenter.dispose();
  });

  it('splits a batch whose bytes exceed one binding, with the same result', async () => {
    const ctx = await testContext();
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 16 * 1024 });
    const batch = syntheticBatch([[61, 47], [47, 61], [33, 71], [80, 40], [39, 39], [57, 43]]);
    const outputs = [];
    for (const context of [ctx, small]) {
      const augmenter = new Augmenter(context, { outputSize: [20, 18], train: EVERYTHING });
      const { images } = augmenter.apply(batch, { seed: 2, epoch: 0 });
      outputs.push(await images.read());
      if (context === small) expect(context.recorder.stats.perKernel.get('augment.fused')).toBeGreaterThan(1);
      images.dispose();
      augmenter.dispose();
    }
    expectClose(outputs[1]!, outputs[0]!, 1e-6, 0, 'chunked vs whole');
    small.destroy();
  });

  it('validation: Resize(256) of a 256-pixel image then CenterCrop copies source pixels exactly', async () => {
    const ctx = await testContext();
    const batch = syntheticBatch([[341, 256], [256, 300]]);
    const augmenter = new Augmenter(ctx, { outputSize: 224, normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } });
    const { images, params } = augmenter.apply(batch);
    const out = await images.read();
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const expected = new Float32Array(out.length);
    params.forEach((p: SampleParams, i) => {
      const { crop } = p.geometry;
      const { width } = p.source;
      const offset = batch.table[i * 4]!;
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 224; y++)
          for (let x = 0; x < 224; x++) {
            const byte = batch.data[offset + ((y + crop.top) * width + x + crop.left) * 3 + c]!;
            expected[((i * 3 + c) * 224 + y) * 224 + x] = (byte / 255 - mean[c]!) / std[c]!;
          }
    });
    expect(params[0]!.geometry).toEqual({ kind: 'resize-center-crop', resized: { height: 256, width: 341 }, crop: { top: 16, left: 58, height: 224, width: 224 } });
    expectClose(out, expected, 2e-6, 0, 'validation crop');
    images.dispose();
    augmenter.dispose();
  });

  it('rejects options torchvision rejects', () => {
    expect(() => resolveOptions({ outputSize: 224, train: { colorJitter: { hue: 0.6 } } })).toThrow(/hue/);
    expect(() => resolveOptions({ outputSize: 224, train: { colorJitter: { brightness: -1 } } })).toThrow(/brightness/);
    expect(() => resolveOptions({ outputSize: 224, train: { scale: [0.5, 0.2] } })).toThrow(/scale/);
    expect(() => resolveOptions({ outputSize: 224, train: { horizontalFlip: 2 } })).toThrow(/probability/);
    expect(() => resolveOptions({ outputSize: 224, resize: 200 })).toThrow(/resize/);
    expect(() => resizeCenterCrop({ width: 50, height: 40 }, resolveOptions({ outputSize: [40, 60], resize: 40 }))).toThrow(/centre crop/);
    expect(() => resolveOptions({ outputSize: 224, normalize: { mean: 0, std: 0 } })).toThrow(/std/);
    // torchvision turns a factor range of [1, 1] (or hue [0, 0]) off.
    expect(resolveOptions({ outputSize: 8, train: { colorJitter: { brightness: 0, hue: 0 } } }).train).toMatchObject({ brightness: null, hue: null });
  });
});

/** The batch with its images in another order (same sample indices). */
function reorder(batch: ImageBatch, order: number[]): ImageBatch {
  return packBatch(order.map((i) => imageInBatch(batch, i)));
}

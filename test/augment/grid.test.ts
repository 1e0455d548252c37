import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { testContext } from '../helpers/gpu.js';
import { packBatch } from '../../src/data/pack-batch.js';
import { Augmenter } from '../../src/data/augment/augmenter.js';
import { describeParams, toRgbImages } from '../../src/data/augment/grid.js';
import { writeAugmentGrid } from '../../src/data/augment/grid-node.js';

describe('augmentation grid', () => {
  it('un-normalises back to the source bytes and writes a labelled PNG grid', async () => {
    const ctx = await testContext();
    const width = 40;
    const height = 32;
    const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 13) & 0xff);
    const batch = packBatch([0, 1, 2].map((i) => ({ pixels, width, height, label: 0, path: `p${i}`, sampleIndex: i })));
    // Validation at the image's own size: Resize(32) and CenterCrop(32x40) change nothing.
    const validation = new Augmenter(ctx, { outputSize: [height, width], resize: height });
    const result = validation.apply(batch);
    const [first] = toRgbImages((await result.images.read()) as Float32Array, result.images.shape, validation.options.mean, validation.options.std);
    expect(Array.from(first!)).toEqual(Array.from(pixels));
    expect(describeParams(result.params[0]!)).toEqual(['resize 40x32, centre crop at (0,0)']);

    const dir = mkdtempSync(join(tmpdir(), 'augment-grid-'));
    try {
      const path = join(dir, 'grid.png');
      await writeAugmentGrid(path, result, validation, { columns: 2, titles: ['a', 'b', 'c'] });
      const meta = await sharp(path).metadata();
      expect(meta.format).toBe('png');
      // Two columns of 40-pixel tiles and two rows of 32-pixel tiles with two caption lines.
      expect(meta.width).toBeGreaterThan(2 * width);
      expect(meta.height).toBeGreaterThan(2 * height + 4 * 11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    result.images.dispose();
    validation.dispose();
  });
});

describe('browser bundle', () => {
  it('imports sharp and Node modules only from grid-node.ts', () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'data', 'augment');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'grid-node.ts')) {
      const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      expect(imports.filter((i) => i === 'sharp' || i.startsWith('node:') || /-node\.js$/.test(i)), file).toEqual([]);
    }
  });
});

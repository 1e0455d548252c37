import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatScanReport, scanDataset } from '../../src/data/scan.js';
import { makeTempDir, photoLikeJpeg, removeDir, writeFiles, writePetImages } from './make-images.js';

describe('scanDataset', () => {
  let dir = '';
  let root = '';
  beforeAll(async () => {
    dir = await makeTempDir();
    root = await writePetImages(join(dir, 'PetImages'));
  });
  afterAll(() => removeDir(dir));

  it('counts usable images per class and lists bad files with reasons, by decoding', async () => {
    const progress: number[] = [];
    const report = await scanDataset(root, { onProgress: (checked) => progress.push(checked) });
    expect(report.layout).toBe('class-folders');
    expect(report.parts).toEqual([{ name: 'all', classes: ['Cat', 'Dog'], imagesPerClass: [11, 5] }]);
    expect(report.files).toBe(11 + 10);
    expect(report.usableImages).toBe(16);
    expect(report.formats).toEqual({ jpeg: 16, png: 2 });
    expect(report.badFiles.map((r) => [r.path.slice(root.length + 1), r.reason])).toEqual([
      ['Cat/empty.jpg', 'empty'],
      ['Cat/text.jpg', 'not-an-image'],
      ['Cat/huge.jpg', 'too-large'],
      ['Cat/truncated.jpg', 'truncated'],
    ]);
    expect(report.nonImages).toEqual([join(root, 'Cat', 'Thumbs.db')]);
    expect(progress).toHaveLength(18);
    expect(progress.at(-1)).toBe(18);
  });

  it('with headers only, misses the truncated file but still refuses absurd dimensions', async () => {
    const report = await scanDataset(root, { check: 'header' });
    expect(report.usableImages).toBe(17);
    expect(report.badFiles.map((r) => r.reason)).toEqual(['empty', 'not-an-image', 'too-large']);
  });

  it('formats a report for the terminal', async () => {
    const text = formatScanReport(await scanDataset(root));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/PetImages: one folder per class, 2 classes \(every image decoded, \d+\.\d s\)$/);
    expect(lines.slice(1, 5)).toEqual(['  class  images', '  Cat        11', '  Dog         5', '  total      16']);
    expect(lines[5]).toBe('files: 21 seen, 16 usable images (by content: jpeg 16, png 2), 4 bad, 1 other files ignored');
    expect(lines[6]).toBe('bad files: 4 skipped (empty 1, not-an-image 1, truncated 1, too-large 1)');
    expect(lines).toContain('  Cat/empty.jpg: empty: the file has 0 bytes');
    expect(text).not.toMatch(/warning/);
  });

  it('reports train/ and validation/ folders side by side, with warnings', async () => {
    const explicit = join(dir, 'explicit');
    const jpeg = await photoLikeJpeg(16, 12, 1);
    await writeFiles(join(explicit, 'train', 'cats'), { '1.jpg': jpeg, '2.jpg': jpeg });
    await writeFiles(join(explicit, 'train', 'dogs'), { '1.jpg': jpeg });
    await writeFiles(join(explicit, 'validation', 'cats'), { '1.jpg': jpeg });
    await writeFiles(join(explicit, 'validation', 'dogs'), { 'readme.txt': Buffer.from('no images here') });
    const report = await scanDataset(explicit);
    expect(report.layout).toBe('train-validation');
    const text = formatScanReport(report);
    expect(text.split('\n').slice(1, 5)).toEqual([
      '  class  train  validation',
      '  cats       2           1',
      '  dogs       1           0',
      '  total      3           1',
    ]);
    expect(text).toContain('warning: class "dogs" has no usable image in validation');
  });
});

import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCodePoints, listImageFolder } from '../../src/data/image-folder.js';
import { DatasetLayoutError } from '../../src/data/layout.js';
import { makeTempDir, ODD_FILES, photoLikeJpeg, removeDir, writeFiles, writePetImages } from './make-images.js';

describe('compareCodePoints', () => {
  it('sorts as Python sorts str: by code point, upper case before lower, astral after U+FFFD', () => {
    const names = ['dog', 'Dog', 'cat', 'Cat', '😀', '\ufffd', 'é', 'e', '10', '9', 'Cat2', 'Cat 2'];
    expect([...names].sort(compareCodePoints)).toEqual(['10', '9', 'Cat', 'Cat 2', 'Cat2', 'Dog', 'cat', 'dog', 'e', 'é', '\ufffd', '😀']);
    // JavaScript's default sort compares UTF-16 units and would put the emoji first of the last two.
    expect(['\ufffd', '😀'].sort()).toEqual(['😀', '\ufffd']);
  });
});

describe('listImageFolder', () => {
  let root = '';
  beforeAll(async () => {
    root = await writePetImages(join(await makeTempDir(), 'PetImages'));
  });
  afterAll(() => removeDir(join(root, '..')));

  it('finds the classes in order and the images by content', async () => {
    const folder = await listImageFolder(root);
    expect(folder.classes).toEqual(['Cat', 'Dog']);
    const names = (label: number) => folder.samples.filter((s) => s.label === label).map((s) => s.path.slice(root.length + 1));
    const usableOdd = Object.entries(ODD_FILES).filter(([, kind]) => kind === 'usable' || kind === 'truncated' || kind === 'too-large');
    expect(names(0)).toHaveLength(6 + usableOdd.length);
    expect(names(1)).toEqual(['Dog/0.jpg', 'Dog/1.jpg', 'Dog/2.jpg', 'Dog/3.jpg', 'Dog/4.jpg']);
    expect(folder.samples.find((s) => s.path.endsWith('png-named.jpg'))?.format).toBe('png');
  });

  it('reports empty files and non-images named as images, and only counts the other files', async () => {
    const folder = await listImageFolder(root);
    expect(folder.badFiles.map((r) => [r.path.slice(root.length + 1), r.reason])).toEqual([
      ['Cat/empty.jpg', 'empty'],
      ['Cat/text.jpg', 'not-an-image'],
    ]);
    expect(folder.nonImages).toEqual([join(root, 'Cat', 'Thumbs.db')]);
  });

  it('walks sub-folders as torchvision does, skipping hidden ones, following links', async () => {
    const dir = await makeTempDir();
    const jpeg = await photoLikeJpeg(8, 8, 1);
    await writeFiles(join(dir, 'b'), { 'z.jpg': jpeg });
    await writeFiles(join(dir, 'b', 'sub'), { 'a.jpg': jpeg });
    await writeFiles(join(dir, 'b', 'sub0'), { 'a.jpg': jpeg });
    await writeFiles(join(dir, 'a', '.ipynb_checkpoints'), { 'x.jpg': jpeg });
    await writeFiles(join(dir, 'a'), { 'y.jpg': jpeg });
    await writeFiles(join(dir, '.git'), { 'HEAD.jpg': jpeg });
    await symlink(join(dir, 'b'), join(dir, 'c'));
    await symlink(join(dir, 'b'), join(dir, 'b', 'sub', 'loop'));
    const folder = await listImageFolder(dir);
    expect(folder.classes).toEqual(['a', 'b', 'c']);
    const relative = folder.samples.map((s) => [s.path.slice(dir.length + 1), s.label]);
    expect(relative).toEqual([
      ['a/y.jpg', 0],
      ['b/z.jpg', 1],
      ['b/sub/a.jpg', 1],
      ['b/sub0/a.jpg', 1],
      ['c/z.jpg', 2],
      ['c/sub/a.jpg', 2],
      ['c/sub0/a.jpg', 2],
    ]);
    await removeDir(dir);
  });

  it('refuses a folder without class folders', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'a.jpg'), await photoLikeJpeg(8, 8, 1));
    await expect(listImageFolder(dir)).rejects.toThrow(DatasetLayoutError);
    await removeDir(dir);
  });

  it('lists 25,000 files (the size of PetImages) reading only their first bytes, in a few seconds', async () => {
    const dir = await makeTempDir();
    const jpegHead = Buffer.concat([(await photoLikeJpeg(8, 8, 1)).subarray(0, 64), Buffer.alloc(2000)]);
    for (const name of ['Cat', 'Dog']) {
      await mkdir(join(dir, name));
      for (let start = 0; start < 12_500; start += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, i) => writeFile(join(dir, name, `${start + i}.jpg`), jpegHead)));
      }
    }
    await writeFile(join(dir, 'Cat', 'Thumbs.db'), Buffer.alloc(100));
    const started = performance.now();
    const folder = await listImageFolder(dir);
    const seconds = (performance.now() - started) / 1000;
    console.log(`listed 25,001 files in ${seconds.toFixed(2)} s`);
    expect(folder.samples).toHaveLength(25_000);
    expect(folder.nonImages).toHaveLength(1);
    expect(seconds).toBeLessThan(10);
    await removeDir(dir);
  });
});

import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../src/data/dataset.js';
import { listImageFolder } from '../../src/data/image-folder.js';
import { DatasetLayoutError, detectLayout } from '../../src/data/layout.js';
import { loadDataset, splitByClass } from '../../src/data/split.js';
import { makeTempDir, photoLikeJpeg, removeDir, writeFiles } from './make-images.js';

const paths = (samples: Sample[]): string[] => samples.map((s) => s.path);

async function writeClassFolders(root: string, counts: Record<string, number>): Promise<void> {
  const jpeg = await photoLikeJpeg(16, 12, 1);
  for (const [name, count] of Object.entries(counts)) {
    await writeFiles(join(root, name), Object.fromEntries(Array.from({ length: count }, (_, i) => [`${i}.jpg`, jpeg])));
  }
}

describe('splitByClass', () => {
  let root = '';
  beforeAll(async () => {
    root = await makeTempDir();
    await writeClassFolders(root, { Cat: 50, Dog: 31 });
  });
  afterAll(() => removeDir(root));

  it('puts round(20%) of each class in validation, the rest in train, no file in both', async () => {
    const folder = await listImageFolder(root);
    const split = splitByClass(folder, 7);
    const count = (samples: Sample[], label: number) => samples.filter((s) => s.label === label).length;
    expect([count(split.validation, 0), count(split.train, 0)]).toEqual([10, 40]);
    expect([count(split.validation, 1), count(split.train, 1)]).toEqual([6, 25]);
    const all = [...paths(split.train), ...paths(split.validation)];
    expect(new Set(all).size).toBe(81);
    expect(all.sort()).toEqual(paths(folder.samples).sort());
  });

  it('is the same for the same seed, different for another, and keeps listing order', async () => {
    const folder = await listImageFolder(root);
    const a = splitByClass(folder, 7);
    expect(splitByClass(folder, 7)).toEqual(a);
    expect(paths(splitByClass(folder, 8).validation)).not.toEqual(paths(a.validation));
    const position = new Map(folder.samples.map((s, i) => [s.path, i]));
    const positions = a.train.map((s) => position.get(s.path)!);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
  });

  it('takes another fraction, and refuses one outside [0, 1]', async () => {
    const folder = await listImageFolder(root);
    expect(splitByClass(folder, 1, 0.5).validation).toHaveLength(25 + 16);
    expect(splitByClass(folder, 1, 0).validation).toHaveLength(0);
    expect(() => splitByClass(folder, 1, 1.5)).toThrow(RangeError);
  });
});

describe('loadDataset', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => removeDir(dir));

  it('splits one folder per class by seed, and writes then reads the manifest', async () => {
    const root = join(dir, 'PetImages');
    await writeClassFolders(root, { Cat: 20, Dog: 20 });
    await writeFiles(join(root, 'Cat'), { 'empty.jpg': Buffer.alloc(0) });
    const manifestPath = join(dir, 'split.json');
    const first = await loadDataset(root, { seed: 3, manifestPath });
    expect(first.splitBy).toBe('seed');
    expect(first.layout.kind).toBe('class-folders');
    expect([first.train.length, first.validation.length]).toEqual([32, 8]);
    expect(first.badFiles.map((r) => r.reason)).toEqual(['empty']);

    const json = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(json.train[0]).toEqual([expect.stringMatching(/^(Cat|Dog)\/\d+\.jpg$/), expect.any(Number)]);

    const again = await loadDataset(root, { seed: 3, manifestPath });
    expect(again.splitBy).toBe('manifest');
    expect(again.train).toEqual(first.train);
    expect(again.validation).toEqual(first.validation);
    expect(again.classes).toEqual(first.classes);
    expect(again.badFiles).toEqual(first.badFiles);
  });

  it('refuses a manifest made with another seed', async () => {
    const root = join(dir, 'PetImages');
    await expect(loadDataset(root, { seed: 4, manifestPath: join(dir, 'split.json') })).rejects.toThrow(/seed 3/);
  });

  it.each(['validation', 'val'])('uses train/ and %s/ folders when the dataset has them', async (name) => {
    const root = join(dir, `explicit-${name}`);
    await writeClassFolders(join(root, 'train'), { cats: 4, dogs: 3 });
    await writeClassFolders(join(root, name), { cats: 2, dogs: 1 });
    expect((await detectLayout(root)).kind).toBe('train-validation');
    const dataset = await loadDataset(root, { seed: 0 });
    expect(dataset.splitBy).toBe('folders');
    expect(dataset.classes).toEqual(['cats', 'dogs']);
    expect(dataset.train.map((s) => s.label)).toEqual([0, 0, 0, 0, 1, 1, 1]);
    expect(dataset.validation.map((s) => s.label)).toEqual([0, 0, 1]);
    expect(dataset.validation[0]!.path).toBe(join(root, name, 'cats', '0.jpg'));
  });

  it('refuses train/ and validation/ with different classes', async () => {
    const root = join(dir, 'mismatch');
    await writeClassFolders(join(root, 'train'), { cats: 1, dogs: 1 });
    await writeClassFolders(join(root, 'validation'), { cats: 1, birds: 1 });
    await expect(loadDataset(root, { seed: 0 })).rejects.toThrow(DatasetLayoutError);
  });

  it('refuses folders named like splits that are not train/ and validation/ together: they would train as classes', async () => {
    for (const [name, folders] of [['case', ['Train', 'Test']], ['lone', ['train']], ['valid-only', ['cats', 'valid']]] as const) {
      const root = join(dir, `split-like-${name}`);
      await writeClassFolders(root, Object.fromEntries(folders.map((f) => [f, 1])));
      await expect(loadDataset(root, { seed: 0 }), name).rejects.toThrow(DatasetLayoutError);
      await expect(loadDataset(root, { seed: 0 }), name).rejects.toThrow(/folders named like splits .*give it train\/ and validation\/ \(lowercase\)/);
    }
    const linked = join(dir, 'linked-train'); // train/ as a link to a folder elsewhere
    await writeClassFolders(join(dir, 'elsewhere'), { cats: 2, dogs: 2 });
    await writeClassFolders(join(linked, 'validation'), { cats: 1, dogs: 1 });
    await symlink(join(dir, 'elsewhere'), join(linked, 'train'));
    expect((await detectLayout(linked)).kind).toBe('train-validation');
  });

  it('refuses a class folder without a usable image, in either layout', async () => {
    const root = join(dir, 'empty-class');
    await writeClassFolders(root, { cats: 3, dogs: 3 });
    await writeFiles(join(root, 'birds'), { 'empty.jpg': Buffer.alloc(0) });
    await expect(loadDataset(root, { seed: 0 })).rejects.toThrow(/no usable image in class folder "birds" \(1 bad files in it/);
    const explicit = join(dir, 'empty-validation-class');
    await writeClassFolders(join(explicit, 'train'), { cats: 2, dogs: 2 });
    await writeClassFolders(join(explicit, 'validation'), { cats: 1, dogs: 0 });
    await expect(loadDataset(explicit, { seed: 0 })).rejects.toThrow(/validation: no usable image in class folder "dogs"/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuContext, conv2d, createNodeGpu, noGrad, tensor, tidy, InputError } from '../../src/node.js';
import { tuneConvTiles } from '../../src/kernels/conv2d-tuning.js';
import { measuredChoices } from '../../src/kernels/conv2d-tile.js';
import { loadTuning, saveTuning, type TuningIdentity } from '../../src/train/tuning-file-node.js';

// train --tune-kernels keeps its choices in a file for the next run on the same adapter and engine.
// GPU kernels forced: a CPU adapter runs the blocked convolution, which has no tile to choose.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wgt-tuning-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const gpuContext = async () => GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
const layer = (ctx: GpuContext) => {
  const x = tensor(new Float32Array(2 * 8 * 16 * 16).fill(0.5), [2, 8, 16, 16], { ctx });
  const w = tensor(new Float32Array(96 * 8 * 9).fill(0.25), [96, 8, 3, 3], { ctx });
  return () => noGrad(() => tidy(() => void conv2d(x, w, undefined, { padding: 1 })));
};
const identity: TuningIdentity = { adapter: 'adapter A', engine: '0.1.0 0123456789ab' };

describe('the tuning file (train/tuning-file-node.ts)', () => {
  it('gives a later context the choices measured on this adapter by this engine, and no others', async () => {
    const path = join(dir, 'round-trip.json');
    const first = await gpuContext();
    const second = await gpuContext();
    const other = await gpuContext();
    try {
      expect(await loadTuning(first, path, identity)).toBe(0); // no file yet: nothing to restore
      await tuneConvTiles(first, layer(first), { runs: 1 });
      await saveTuning(first, path, identity);
      expect(await loadTuning(second, path, identity)).toBe(Object.keys(measuredChoices(first).tiles).length);
      expect(measuredChoices(second)).toEqual(measuredChoices(first));
      const report = await tuneConvTiles(second, layer(second), { runs: 1, reuse: true });
      expect(report.every((r) => r.reused)).toBe(true);
      // Another adapter, or another commit of the engine, measures afresh.
      expect(await loadTuning(other, path, { ...identity, adapter: 'adapter B' })).toBe(0);
      expect(await loadTuning(other, path, { ...identity, engine: '0.1.0 ba9876543210' })).toBe(0);
      expect(measuredChoices(other)).toEqual({ tiles: {}, algorithms: {} });
    } finally {
      first.destroy();
      second.destroy();
      other.destroy();
    }
  });

  it('keeps other adapters\' entries, the newest first, and at most 16', async () => {
    const path = join(dir, 'entries.json');
    const ctx = await gpuContext();
    try {
      await tuneConvTiles(ctx, layer(ctx), { runs: 1, roles: ['forward'] });
      for (let i = 0; i < 20; i++) await saveTuning(ctx, path, { ...identity, adapter: `adapter ${i}` });
      await saveTuning(ctx, path, { ...identity, adapter: 'adapter 5' }); // written again: moves to the front
      const file = JSON.parse(await readFile(path, 'utf8')) as { entries: { adapter: string }[] };
      expect(file.entries.map((e) => e.adapter)).toEqual(['adapter 5', 'adapter 19', 'adapter 18', 'adapter 17', 'adapter 16', 'adapter 15', 'adapter 14', 'adapter 13', 'adapter 12', 'adapter 11', 'adapter 10', 'adapter 9', 'adapter 8', 'adapter 7', 'adapter 6', 'adapter 4']);
    } finally {
      ctx.destroy();
    }
  });

  it('refuses a tile or algorithm the engine does not have (a hand-edited file), naming it', async () => {
    const ctx = await gpuContext();
    try {
      for (const [tile, algorithm, message] of [
        [{ channels: 96, pixels: 64, depth: 16 }, 'direct', /the tile \{"channels":96,"pixels":64,"depth":16\} for 'forward x' is not one this engine has/],
        [{ channels: 64, taps: 64 }, 'fastest', /the algorithm "fastest" for 'forward x' is not one this engine has/],
      ] as const) {
        const path = join(dir, 'edited.json');
        const entry = { ...identity, choices: { tiles: { 'forward x': tile }, algorithms: { 'forward x': algorithm } } };
        await writeFile(path, JSON.stringify({ format: 'webgpu-transfer conv tuning', entries: [entry] }));
        await expect(loadTuning(ctx, path, identity)).rejects.toThrow(message);
      }
    } finally {
      ctx.destroy();
    }
  });

  it('refuses a file that is not one, and leaves it as it was', async () => {
    const ctx = await gpuContext();
    try {
      for (const [name, content] of [['notes.json', '{"hello": 1}\n'], ['broken.json', '{"format": ']]) {
        const path = join(dir, name);
        await writeFile(path, content);
        await expect(loadTuning(ctx, path, identity)).rejects.toThrow(InputError);
        await expect(saveTuning(ctx, path, identity)).rejects.toThrow(new RegExp(`${name}: not a kernel tuning file .*remove it, or give --tuning-file another path`));
        expect(await readFile(path, 'utf8')).toBe(content);
      }
    } finally {
      ctx.destroy();
    }
  });
});

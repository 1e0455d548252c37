import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/runtime/errors.js';
import { NOTEBOOK_PLAN } from '../../src/train/plan.js';
import { checkRunFolder, prepareRunFolder, runFiles, trimLog } from '../../src/train/run-folder.js';
import type { TrainRunOptions } from '../../src/train/run-node.js';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'wgt-run-folder-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const optionsFor = (out: string): TrainRunOptions => ({
  ...NOTEBOOK_PLAN, data: 'shapes', model: 'small_vgg', plan: 'both', batchSize: 4, seed: 0, imageSize: 32, resize: 36, out,
  augment: { horizontalFlip: 0.5 }, validationFraction: 0.2, progressEvery: 10,
});

describe('run folder', () => {
  it('a new run clears what a failed one left, and drops the temporary files of cut checkpoints', async () => {
    const out = join(dir, 'fresh');
    const files = runFiles(out);
    await mkdir(out, { recursive: true });
    for (const file of [files.split, files.log, files.badFiles, join(out, 'checkpoint.safetensors.tmp-4242')]) await writeFile(file, 'left over\n');
    await checkRunFolder(out, optionsFor(out), false);
    await prepareRunFolder(out, optionsFor(out), false);
    for (const file of [files.split, files.log, files.badFiles, join(out, 'checkpoint.safetensors.tmp-4242')]) expect(existsSync(file), file).toBe(false);
    expect(JSON.parse(await readFile(files.options, 'utf8'))).toEqual(optionsFor(out));
  });

  it('resumes only with the run\'s own options, naming every one that differs', async () => {
    const out = join(dir, 'resumed');
    const files = runFiles(out);
    await prepareRunFolder(out, optionsFor(out), false);
    await expect(checkRunFolder(out, optionsFor(out), true)).rejects.toThrow(/--resume: no checkpoint in/);
    await writeFile(files.checkpoint, 'a checkpoint');
    await expect(checkRunFolder(out, optionsFor(out), false)).rejects.toThrow(/already holds a run: pass --resume/);
    // The same folder; reporting, speed and the pretrained weights (in the checkpoint by now) may change.
    await checkRunFolder(out, { ...optionsFor(out), data: 'shapes/', progressEvery: 0, tuneKernels: true, weights: 'elsewhere.pth' }, true);
    const changed = { ...optionsFor(out), lr: 0.5, imageSize: 28, optimizer: 'adam' as const };
    const error = await checkRunFolder(out, changed, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/started with --lr 0\.001, not 0\.5; --optimizer sgd, not adam; --image-size 32, not 28; resume it with its own options/);
    await prepareRunFolder(out, changed, true);
    expect(JSON.parse(await readFile(files.options, 'utf8'))).toEqual(optionsFor(out)); // a resume does not rewrite them
  });

  it('keeps the log lines a checkpoint covers, dropping one for an epoch to be run again', async () => {
    const out = join(dir, 'log');
    await mkdir(out, { recursive: true });
    await writeFile(runFiles(out).log, '{"epoch":1}\n{"epoch":2}\n{"epoch":3}\n');
    await trimLog(out, 2);
    expect(await readFile(runFiles(out).log, 'utf8')).toBe('{"epoch":1}\n{"epoch":2}\n');
  });
});

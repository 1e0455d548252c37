import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNode, type GpuContext } from '../../src/node.js';
import { DeviceLostError } from '../../src/runtime/errors.js';
import { NOTEBOOK_PLAN } from '../../src/train/plan.js';
import { trainRun, type TrainRunOptions } from '../../src/train/run-node.js';
import { checkRunFolder } from '../../src/train/run-folder.js';
import { writeShapesFolder } from '../helpers/shapes-folder.js';

// A device lost mid-run (a driver reset, a browser's GPU process crashing) takes the weights and
// the optimizer's state with it. The run must say so, and its last checkpoint must carry it on
// to where a run never stopped ends. The loss is made by destroying the device behind the
// context's back, which WebGPU reports as any other loss (GPUDeviceLostInfo, reason 'destroyed').

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wgt-gpu-failure-'));
  data = join(dir, 'shapes');
  await writeShapesFolder(data);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const optionsFor = (out: string): TrainRunOptions => ({
  ...NOTEBOOK_PLAN, data, model: 'small_vgg', plan: 'both', epochs: 2, finetuneEpochs: 1, lr: 0.01, batchSize: 4, seed: 3,
  imageSize: 32, resize: 36, out, augment: { horizontalFlip: 0.5 }, validationFraction: 0.2, progressEvery: 0,
});
const quiet = { log: () => {} };

/** Loses `ctx`'s device at the `nth` submit once `ready()` holds. */
function loseDevice(ctx: GpuContext, nth: number, ready: () => boolean): void {
  const flush = ctx.recorder.flush.bind(ctx.recorder);
  let submits = 0;
  ctx.recorder.flush = () => {
    if (ready() && ++submits === nth) ctx.device.destroy();
    flush();
  };
}

const logOf = async (out: string) => (await readFile(join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));

describe('a GPU lost during training', () => {
  it('ends the run naming the loss and the checkpoint, which resumes to the result of a run never stopped', { timeout: 300_000 }, async () => {
    const straight = join(dir, 'straight');
    const whole = await initNode();
    await trainRun(whole, optionsFor(straight), quiet);
    whole.destroy();

    const lost = join(dir, 'lost');
    const failing = await initNode();
    loseDevice(failing, 3, () => existsSync(join(lost, 'checkpoint.safetensors'))); // a few steps into epoch 2
    const error = await trainRun(failing, optionsFor(lost), quiet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as Error).message).toMatch(/^the GPU device was lost \(destroyed: .*\); what was on it is gone/);
    expect((error as Error).message).toMatch(/the checkpoint .*checkpoint\.safetensors is intact: the same command with --resume continues from phase 1, epoch 2, batch 0$/);
    expect(failing.watch.failure!.message).not.toMatch(/checkpoint/); // the run's note is on its own error, not the context's
    expect(() => failing.recorder.flush()).toThrow(DeviceLostError); // nothing more is recorded into a dead device
    failing.destroy(); // and freeing it does not throw

    const again = await initNode();
    await trainRun(again, optionsFor(lost), { ...quiet, resume: true });
    again.destroy();
    const [resumed, expected] = [await logOf(lost), await logOf(straight)];
    expect(resumed).toHaveLength(3);
    const figures = (rows: { trainLoss: number; valLoss: number; valAccuracy: number }[]) => rows.map((r) => [r.trainLoss, r.valLoss, r.valAccuracy]);
    expect(figures(resumed)).toEqual(figures(expected));
    expect(await readFile(join(lost, 'best.safetensors'))).toEqual(await readFile(join(straight, 'best.safetensors')));
  });

  it('with a checkpoint every step, a loss mid-epoch costs the steps since; the run resumes mid-epoch to the same result', { timeout: 300_000 }, async () => {
    const out = join(dir, 'every-step');
    const options = { ...optionsFor(out), checkpointEvery: { steps: 1 } };
    const failing = await initNode();
    loseDevice(failing, 2, () => existsSync(join(out, 'checkpoint.safetensors'))); // in transfer epoch 1
    const error = await trainRun(failing, options, quiet).catch((e: unknown) => e);
    failing.destroy();
    expect((error as Error).message).toMatch(/--resume continues from phase 1, epoch 1, batch [1-3]$/);
    const again = await initNode();
    await trainRun(again, options, { ...quiet, resume: true });
    again.destroy();
    // The straight run above checkpointed after each epoch only: checkpoints change no result.
    const figures = (rows: { trainLoss: number; valLoss: number }[]) => rows.map((r) => [r.trainLoss, r.valLoss]);
    expect(figures(await logOf(out))).toEqual(figures(await logOf(join(dir, 'straight'))));
    expect(await readFile(join(out, 'best.safetensors'))).toEqual(await readFile(join(dir, 'straight', 'best.safetensors')));
  });

  it('lost before the first checkpoint: says none was written, when one would be, and that the same command starts again', { timeout: 120_000 }, async () => {
    for (const [name, checkpointEvery, when] of [
      ['early', undefined, 'after every epoch; checkpointEvery \\(--checkpoint-minutes, --checkpoint-every\\) writes them inside one too'],
      ['early-every', { steps: 50, minutes: 30 }, 'after every epoch and every 50 steps or every 30 minutes'],
    ] as const) {
      const out = join(dir, name);
      const ctx = await initNode();
      loseDevice(ctx, 2, () => true);
      const error = await trainRun(ctx, { ...optionsFor(out), checkpointEvery }, quiet).catch((e: unknown) => e);
      ctx.destroy();
      expect(error).toBeInstanceOf(DeviceLostError);
      expect((error as Error).message).toMatch(new RegExp(`no checkpoint was written yet \\(one is ${when}\\): run the same command again$`));
      await expect(checkRunFolder(out, { ...optionsFor(out), checkpointEvery }, false)).resolves.toBeUndefined();
    }
  });
});

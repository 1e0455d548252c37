import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describeConfusion } from '../../src/train/confusion-text.js';
import { writeShapesFolder } from '../helpers/shapes-folder.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const run = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
/** The run the interruption tests train: a head for 2 epochs, then 1 of fine-tuning. */
const trainArgs = (out: string) => ['train', '--data', data, '--model', 'small_vgg', '--plan', 'both', '--epochs', '2', '--finetune-epochs', '1',
  '--batch-size', '4', '--image-size', '32', '--resize', '36', '--lr', '0.01', '--seed', '3', '--out', out, '--progress-every', '0'];

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wgt-cli-'));
  data = join(dir, 'shapes');
  // Two classes of the demo's target shapes as PNG files, plus the kinds of bad file real folders hold.
  await writeShapesFolder(data);
  await writeFile(join(data, 'star', 'empty.jpg'), '');
  await writeFile(join(data, 'hexagon', 'notes.jpg'), 'not an image at all');
  // Bad only when decoded (the listing sees a PNG's first bytes): found during an epoch, not before.
  const png = await readFile(join(data, 'hexagon', '0.png'));
  await writeFile(join(data, 'hexagon', 'cut.png'), png.subarray(0, png.length >> 1));
  await writeFile(join(data, 'hexagon', 'Thumbs.db'), Buffer.alloc(512));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('command line', () => {
  it('lists its commands', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const c of ['train', 'eval', 'predict', 'inspect', 'scan', 'augment', 'info', 'demo']) expect(r.stdout).toContain(c);
  });

  it("info names the adapter, and with --ceiling what it does at best, in text and in JSON", () => {
    const text = run('info', '--ceiling');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^adapter: +\S/m);
    expect(text.stdout).toMatch(/^ceiling: +[\d.]+ GFLOP\/s of multiply-adds, [\d.]+ GB\/s copying, [\d.]+ GB\/s reading \(measured now\)$/m);
    const json = run('info', '--json', '--ceiling');
    expect(json.status, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { limits: Record<string, number>; ceilings: { fmaGflops: number; copyGbps: number; readGbps: number } };
    expect(parsed.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    for (const rate of [parsed.ceilings.fmaGflops, parsed.ceilings.copyGbps, parsed.ceilings.readGbps]) expect(rate).toBeGreaterThan(0);
    expect(run('info').stdout).not.toMatch(/^ceiling:/m);
  });

  it('bad arguments give the usage and exit code 2, not a stack trace', () => {
    for (const args of [[], ['frobnicate'], ['train', '--bogus'], ['train', '--data', 'x', '--plan', 'sometimes'], ['train', '--data', 'x', '--lr', 'fast'], ['predict'], ['scan']]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr + r.stdout, args.join(' ')).toMatch(/Usage: webgpu-transfer/);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('an option out of its range is refused with the usage before anything runs or is written', () => {
    const out = join(dir, 'never-written');
    const train = (...args: string[]) => ['train', '--data', data, '--model', 'small_vgg', '--out', out, ...args];
    for (const [args, message] of [
      [train('--epochs', '0'), /--epochs expects a whole number, at least 1, got '0'/],
      [train('--epochs', '1.5'), /--epochs expects a whole number/],
      [train('--val-fraction', '0'), /--val-fraction expects a number between 0 and 1/],
      [train('--batch-size', '0'), /--batch-size expects a whole number, at least 1/],
      [train('--lr=-1'), /--lr expects a number above 0/],
      [train('--hflip', '7'), /--hflip expects a number from 0 to 1/],
      [train('--min-scale', '3'), /--min-scale expects a number above 0, at most 1/],
      [train('--hue', '0.7'), /hue must be a number in \[0, 0.5\]/],
      [train('--image-size', '64', '--resize', '32'), /resize \(32\) must be at least the output size/],
      [train('--plan', 'finetune', '--finetune-lr', '0.1'), /--finetune-lr is for the fine-tuning phase of --plan both/],
      [train('--no-augment', '--hflip', '0', '--min-scale', '1'), /--no-augment trains on the validation transform; it cannot go with --min-scale, --hflip/],
      [train('--tuning-file', join(out, 'tuning.json')), /--tuning-file is where --tune-kernels keeps its choices: give --tune-kernels too/],
      [['predict', 'x.png', '--weights', 'w.safetensors', '--top', '0'], /--top expects a whole number, at least 1/],
      [['inspect', '--weights', 'w.safetensors', '--model', 'vgg17'], /--model must be one of vgg16, /],
      [['augment', '--data', data, '--out', join(out, 'grid.png'), '--images', '0'], /--images expects a whole number, at least 1/],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('inspect maps a weight file onto a model', () => {
    const r = run('inspect', '--weights', 'assets/demo/source-smallvgg.safetensors', '--model', 'demo_vgg');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/onto demo_vgg: 16 load, 0 shape mismatches, 0 unexpected, 0 missing/);
  });

  it('a missing folder is a one-line error', () => {
    const r = run('scan', join(dir, 'nowhere'));
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('scan reports class counts and every bad file with its reason', () => {
    const r = run('scan', data);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/star/);
    expect(r.stdout).toMatch(/empty\.jpg/);
    expect(r.stdout).toMatch(/notes\.jpg/);
    // The folder as train, eval and augment take it gives the same report; two folders are refused.
    const same = run('scan', '--data', data);
    expect(same.status).toBe(0);
    expect(same.stdout.replace(/\([^)]*\d s\)/, '')).toBe(r.stdout.replace(/\([^)]*\d s\)/, ''));
    const two = run('scan', '--data', data, data);
    expect(two.status).toBe(2);
    expect(two.stderr).toMatch(/exactly one folder: DIR or --data DIR/);
  });

  it('train, killed with SIGKILL after a checkpoint, resumes to the same result', { timeout: 900_000 }, async () => {
    const args = trainArgs;
    const straight = join(dir, 'straight');
    const r = run(...args(straight));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/skipped 3 bad files/);
    expect(r.stdout).toMatch(/validation of those weights \((transfer|finetune) epoch \d\), class by class:\nclass +images +correct +accuracy +most often taken for\nhexagon /);
    // The transfer phase validates its frozen base once (train/feature-cache.ts); the resume below checks the figures.
    expect(r.stdout).toMatch(/validation: the frozen layers up to classifier\.1 ran once; their outputs \(256 per image, [\d.]+ KiB for \d+ images\)/);
    const expected = (await readFile(join(straight, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(expected).toHaveLength(3);
    for (const f of ['best.safetensors', 'checkpoint.safetensors', 'curves.svg', 'bad-files.txt']) expect(existsSync(join(straight, f)), f).toBe(true);
    // Inside epochs too, every half hour unless told otherwise (--checkpoint-minutes).
    expect(JSON.parse(await readFile(join(straight, 'options.json'), 'utf8')).checkpointEvery).toEqual({ minutes: 30 });

    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, [...CLI, ...args(killed)], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (existsSync(join(killed, 'checkpoint.safetensors'))) {
          child.kill('SIGKILL');
          clearInterval(poll);
          resolve();
        }
      }, 20);
      child.on('exit', (code) => (code === 0 ? (clearInterval(poll), resolve()) : undefined));
      setTimeout(() => reject(new Error('no checkpoint appeared')), 240_000);
    });
    const changed = run(...args(killed), '--resume', '--lr', '0.5'); // the last --lr counts
    expect(changed.status).toBe(1);
    expect(changed.stderr).toMatch(/--resume: the run in .* was started with --lr 0\.01, not 0\.5/);
    const again = run(...args(killed), '--resume');
    expect(again.status, again.stderr).toBe(0);
    const resumed = (await readFile(join(killed, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const last = (rows: { trainLoss: number; valLoss: number; valAccuracy: number }[]) => rows[rows.length - 1]!;
    expect(last(resumed).trainLoss).toBe(last(expected).trainLoss);
    // ...and the same account of bad files, epoch by epoch: those found before the kill still count.
    const skipped = (rows: { skippedFiles: number; badFiles: number }[]) => rows.map((r) => [r.skippedFiles, r.badFiles]);
    expect(skipped(resumed)).toEqual(skipped(expected));
    expect(last(resumed).valLoss).toBe(last(expected).valLoss);
    expect(await readFile(join(killed, 'best.safetensors'))).toEqual(await readFile(join(straight, 'best.safetensors')));

    const best = join(straight, 'best.safetensors');
    const images = [join(data, 'star', '0.png'), join(data, 'star', 'empty.jpg')];
    const predicted = run('predict', ...images, '--weights', best, '--model', 'small_vgg', '--image-size', '32', '--resize', '36');
    expect(predicted.stdout).toMatch(/0\.png\t(star|hexagon) \d+\.\d%/);
    expect(predicted.stdout).toMatch(/empty\.jpg\tskipped: empty/);
    expect(predicted.status).toBe(1);
    // best.safetensors records the model and the sizes: nothing more is needed, and a contradiction is refused.
    expect(run('predict', ...images, '--weights', best).stdout).toBe(predicted.stdout);
    const wrongModel = run('predict', ...images, '--weights', best, '--model', 'vgg16');
    expect(wrongModel.status).toBe(1);
    expect(wrongModel.stderr).toMatch(/holds a small_vgg \(its metadata says so\), not a vgg16/);
  });

  it('train --no-augment keeps the frozen base\'s training outputs after the first epoch, with the same figures as without', () => {
    const args = (out: string, ...more: string[]) => ['train', '--data', data, '--model', 'small_vgg', '--plan', 'transfer', '--epochs', '3',
      '--batch-size', '4', '--image-size', '32', '--resize', '36', '--lr', '0.01', '--seed', '3', '--out', join(dir, out), '--progress-every', '0', '--no-augment', ...more];
    const cached = run(...args('no-augment'));
    expect(cached.status, cached.stderr).toBe(0);
    expect(cached.stdout).toMatch(/training: the frozen layers up to classifier\.1 ran once per image; the phase's later epochs train from their outputs \(256 per image, [\d.]+ KiB for \d+ images\), running only the layers after/);
    const uncached = run(...args('no-augment-uncached', '--feature-cache-mb', '0'));
    expect(uncached.status, uncached.stderr).toBe(0);
    expect(uncached.stdout).not.toMatch(/ran once/);
    const losses = (out: string) => readFileSync(join(dir, out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { trainLoss: number; valLoss: number }).map((r) => [r.trainLoss, r.valLoss]);
    expect(losses('no-augment')).toHaveLength(3);
    expect(losses('no-augment')).toEqual(losses('no-augment-uncached'));
    // A run without augmentation resumes only as one.
    const resumed = run(...args('no-augment').filter((a) => a !== '--no-augment'), '--resume');
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toMatch(/was started with the augmentation options none \(--no-augment\), not \{/);
  });

  it('train --tune-kernels keeps its choices for the next run on this adapter, unless the engine has uncommitted changes', () => {
    // GPU kernels forced on this adapter (a CPU adapter's blocked kernels have no tile), and a
    // fixed commit: the tree these tests run in may have uncommitted changes.
    const cache = join(dir, 'cache');
    const tune = (out: string, env: Record<string, string>) => spawnSync(process.execPath, [...CLI, 'train', '--data', data, '--model', 'small_vgg', '--plan', 'transfer',
      '--epochs', '1', '--batch-size', '4', '--image-size', '32', '--resize', '36', '--out', join(dir, out), '--progress-every', '0', '--tune-kernels'],
    { encoding: 'utf8', timeout: 300_000, env: { ...process.env, WGT_KERNELS: 'gpu', XDG_CACHE_HOME: cache, ...env } });
    const file = join(cache, 'webgpu-transfer', 'conv-tuning.json');
    const dirty = tune('tuned-dirty', { WGT_COMMIT: 'cafe', WGT_DIRTY: '1' });
    expect(dirty.status, dirty.stderr).toBe(0);
    expect(dirty.stdout).toContain(`tune-kernels: the engine has uncommitted changes, so ${file} is neither read nor written`);
    expect(existsSync(file)).toBe(false);
    const first = tune('tuned-1', { WGT_COMMIT: 'cafe' });
    expect(first.status, first.stderr).toBe(0);
    const timed = first.stdout.split('\n').filter((line) => /^tune-kernels: (forward|input grad|weight grad) .* ms;/.test(line));
    expect(timed.length).toBeGreaterThan(3);
    const second = tune('tuned-2', { WGT_COMMIT: 'cafe' });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain(`tune-kernels: ${timed.length} choices from ${file}, measured before on this adapter by this engine`);
    expect(second.stdout).toContain(`tune-kernels: ${timed.length} of ${timed.length} kernels as measured before on this adapter, not timed again`);
    expect(second.stdout).not.toMatch(/ ms;/); // another adapter or commit: test/train/tuning-file.test.ts
  });

  it('train --gpu-timeout: a wait on the GPU past the limit ends the run with exit code 1 and the reason', () => {
    // No GPU work ends within a millisecond here, so the first wait fails as a hung one would (a
    // real hung kernel: test/core/device-watch.test.ts).
    const r = run(...trainArgs(join(dir, 'timeout')), '--gpu-timeout', '0.001');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^webgpu-transfer train: the GPU has not finished its work after 0\.001 s, the limit on a wait \(--gpu-timeout, gpuTimeoutMs\): a hung kernel or driver, and nothing more runs on this device; no checkpoint was written yet/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const refused = run(...trainArgs(join(dir, 'timeout')), '--gpu-timeout', '0');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--gpu-timeout/);
  });

  it('train --checkpoint-every takes counts above 0, --checkpoint-minutes 0 or more (0: after each epoch only)', () => {
    for (const [option, says] of [['--checkpoint-every=0', 'a whole number, at least 1'], ['--checkpoint-every=1.5', 'a whole number, at least 1'], ['--checkpoint-minutes=-1', 'a number, 0 or more']]) {
      const r = run(...trainArgs(join(dir, 'refused')), option!);
      expect(r.status, option).toBe(2);
      expect(r.stderr).toContain(says);
    }
  });

  it('train, interrupted once with Ctrl-C (SIGINT), stops with exit code 130 and a checkpoint, and resumes to the same result', { timeout: 900_000 }, async () => {
    const straightLog = join(dir, 'straight', 'log.jsonl');
    if (!existsSync(straightLog)) return expect.fail('needs the training test\'s uninterrupted run');
    const out = join(dir, 'interrupted');
    // After each epoch only: a run's checkpoint schedule may change on --resume.
    const child = spawn(process.execPath, [...CLI, ...trainArgs(out), '--checkpoint-minutes', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk) => {
        // The progress line of the first epoch's last batch: some training is done, most is not.
        if (!stderr.includes('transfer epoch 1 ') && (stderr += chunk).includes('transfer epoch 1 ')) child.kill('SIGINT');
      });
      child.on('exit', resolve);
    });
    expect(code, stdout + stderr).toBe(130);
    expect(stdout).toMatch(/interrupted: stopping after the step in progress/);
    expect(stdout).toMatch(/stopped (at|before) transfer epoch \d.*; a checkpoint was saved/);
    expect(JSON.parse(await readFile(join(out, 'options.json'), 'utf8'))).not.toHaveProperty('checkpointEvery');
    const again = run(...trainArgs(out), '--resume');
    expect(again.status, again.stderr).toBe(0);
    const rows = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { trainLoss: number; valLoss: number });
    const expected = await rows(straightLog);
    const resumed = await rows(join(out, 'log.jsonl'));
    expect(resumed.map((r) => [r.trainLoss, r.valLoss])).toEqual(expected.map((r) => [r.trainLoss, r.valLoss]));
    expect(await readFile(join(out, 'best.safetensors'))).toEqual(await readFile(join(dir, 'straight', 'best.safetensors')));
  });

  it('train with more classes than an epoch keeps a confusion matrix for says where the class-by-class figures are', async () => {
    // 101 classes of two tiny images each, one epoch of a head: the matrix would be 101x101.
    const wide = join(dir, 'wide');
    const pixels = Buffer.alloc(8 * 8 * 3);
    for (let c = 0; c < 101; c++) {
      await mkdir(join(wide, `c${c}`), { recursive: true });
      for (let i = 0; i < 2; i++) await sharp(pixels.fill((c * 2 + i) % 256), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(wide, `c${c}`, `${i}.png`));
    }
    const out = join(dir, 'wide-run');
    const r = run('train', '--data', wide, '--model', 'small_vgg', '--plan', 'scratch', '--epochs', '1', '--batch-size', '32', '--image-size', '8', '--resize', '8', '--val-fraction', '0.5', '--out', out, '--progress-every', '0');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/class by class:\n/);
    expect(r.stdout).toContain(`class by class: 101 classes, more than the 100 an epoch's record keeps; \`webgpu-transfer eval --run ${out}\` gives them`);
    // ... and it does: a row per class.
    const e = run('eval', '--run', out);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout.split('\n').filter((line) => /^c\d+ +\d+ +\d+ +[\d.]+%/.test(line))).toHaveLength(101);
  });

  it('eval refuses a folder whose classes are not those the weights were trained on', async () => {
    const weights = join(dir, 'straight', 'best.safetensors');
    if (!existsSync(weights)) return expect.fail('needs the training test\'s weights');
    const renamed = join(dir, 'renamed');
    await cp(join(data, 'star'), join(renamed, 'circle'), { recursive: true });
    await cp(join(data, 'hexagon'), join(renamed, 'hexagon'), { recursive: true });
    const r = run('eval', '--data', renamed, '--weights', weights);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/was trained on the classes \[hexagon, star\], .* has \[circle, hexagon\]/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const same = run('eval', '--data', data, '--weights', weights);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/\d+ images: loss \d+\.\d+, accuracy \d+\.\d+%/);
    // Per class, then the confusion matrix, the classes in the head's order.
    expect(same.stdout).toMatch(/class +images +correct +accuracy +most often taken for\nhexagon +\d+ +\d+ +[\d.]+% .*\nstar +\d+ +\d+ +[\d.]+% /);
    expect(same.stdout).toMatch(/confusion \(a row per true class, a column per predicted class\):\n +hexagon +star\nhexagon +\d+ +\d+\nstar +\d+ +\d+/);
    // Those weights sit in their run's folder, which trained on this data: its split.json is the split.
    expect(same.stdout).toMatch(/the validation split \(split by .*straight.split\.json\)/);
    const bySeed = run('eval', '--data', data, '--weights', weights, '--seed', '0');
    expect(bySeed.status, bySeed.stderr).toBe(0);
    expect(bySeed.stdout).toMatch(/the validation split \(split by seed\)/);
    // A run folder: its best weights on the validation split it trained with, read from its split.json.
    const ofRun = run('eval', '--run', join(dir, 'straight'));
    expect(ofRun.status, ofRun.stderr).toBe(0);
    expect(ofRun.stdout).toMatch(/the validation split \(split by .*straight.split\.json\)/);
    // Its images: the split's validation part, less cut.png if the split put it there (it never decodes).
    const split = JSON.parse(await readFile(join(dir, 'straight', 'split.json'), 'utf8')) as { validation: [string, number][] };
    const decodable = split.validation.filter(([path]) => !path.endsWith('cut.png')).length;
    expect(ofRun.stdout).toMatch(new RegExp(`^${decodable} images: loss`, 'm'));
    // Class by class, the best weights score on the GPU what the training run recorded for the
    // epoch that wrote them (log.jsonl's valConfusion), and train printed the same at its end.
    const epochs = (await readFile(join(dir, 'straight', 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { valAccuracy: number; valConfusion: number[][] });
    const bestEpoch = epochs.find((e) => e.valAccuracy === Math.max(...epochs.map((x) => x.valAccuracy)))!;
    expect(ofRun.stdout).toContain(describeConfusion(['hexagon', 'star'], bestEpoch.valConfusion).join('\n'));
  });

  it('a new run into the folder of one that failed before its first checkpoint splits its own data afresh', async () => {
    const out = join(dir, 'failed-first');
    const args = ['--model', 'small_vgg', '--plan', 'transfer', '--epochs', '1', '--image-size', '32', '--resize', '36', '--out', out, '--progress-every', '0'];
    const failed = run('train', '--data', data, '--weights', join(dir, 'nowhere.pth'), ...args);
    expect(failed.status).toBe(1);
    expect(existsSync(join(out, 'split.json'))).toBe(true);
    const other = join(dir, 'other-classes');
    await cp(join(data, 'star'), join(other, 'left'), { recursive: true });
    await cp(join(data, 'hexagon'), join(other, 'right'), { recursive: true });
    const r = run('train', '--data', other, ...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/data: 2 classes \(left, right\)/);
    expect(r.stdout).toMatch(/skipped 3 bad files/); // the copied empty.jpg, notes.jpg and cut.png; the stale split's paths would all be missing
  });
});

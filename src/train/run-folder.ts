/**
 * The run folder's bookkeeping (run-node.ts lists what it holds): whether a run may start or
 * resume there, and what a start or a resume leaves of an earlier run's files.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../runtime/errors.js';
import type { TrainRunOptions } from './run-node.js';

export const runFiles = (runDir: string) => ({
  checkpoint: join(runDir, 'checkpoint.safetensors'),
  best: join(runDir, 'best.safetensors'),
  options: join(runDir, 'options.json'),
  split: join(runDir, 'split.json'),
  log: join(runDir, 'log.jsonl'),
  badFiles: join(runDir, 'bad-files.txt'),
});

/** The options a run in `runDir` was started with. */
export async function readRunOptions(runDir: string): Promise<TrainRunOptions> {
  const { options } = runFiles(runDir);
  if (!existsSync(options)) throw new InputError(`${runDir} holds no run (no ${options})`);
  return JSON.parse(await readFile(options, 'utf8')) as TrainRunOptions;
}

/**
 * Options a resumed run may change: how it reports and how fast it runs, not what it computes
 * (the pretrained weights, read only at the start, are in the checkpoint by then).
 */
const FREE_ON_RESUME = new Set<keyof TrainRunOptions>(['out', 'progressEvery', 'gradMonitor', 'tuneKernels', 'tuningFile', 'featureCacheMb', 'checkpointEvery', 'weights']);

/** A run's option as the command line spells it (`validationFraction` is `--val-fraction`). */
function flag(key: string): string {
  if (key === 'validationFraction') return '--val-fraction';
  if (key === 'augment') return 'the augmentation options';
  if (key === 'scheduler') return '--step-size / --gamma / --cosine';
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Refuses to start where a run's checkpoint is, unless resuming; refuses to resume with options
 * other than the run's own, naming each difference: a run that changed its learning rate or
 * image size halfway would be neither the old run nor a new one.
 */
export async function checkRunFolder(runDir: string, options: TrainRunOptions, resume: boolean): Promise<void> {
  const files = runFiles(runDir);
  if (!resume) {
    if (existsSync(files.checkpoint)) throw new InputError(`${runDir} already holds a run: pass --resume to continue it, or choose another --out`);
    return;
  }
  if (!existsSync(files.checkpoint)) throw new InputError(`--resume: no checkpoint in ${runDir}`);
  const saved = await readRunOptions(runDir);
  const same = (key: keyof TrainRunOptions) =>
    key === 'data' ? resolve(saved.data) === resolve(options.data) : JSON.stringify(saved[key]) === JSON.stringify(options[key]);
  const keys = new Set([...Object.keys(saved), ...Object.keys(options)] as (keyof TrainRunOptions)[]);
  const changed = [...keys].filter((key) => !FREE_ON_RESUME.has(key) && !same(key));
  if (changed.length > 0) {
    const show = (key: string, value: unknown) => {
      if (key === 'augment' && value === null) return 'none (--no-augment)';
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    };
    const differences = changed.map((key) => `${flag(key)} ${show(key, saved[key])}, not ${show(key, options[key])}`).join('; ');
    throw new InputError(`--resume: the run in ${runDir} was started with ${differences}; resume it with its own options (${files.options})`);
  }
}

/**
 * Makes the folder ready: a new run clears what a run that failed before its first checkpoint
 * left (its split may be of another folder or miss files added since; its log would be read as
 * this run's) and records its options; both drop temporary files of checkpoints a kill cut short.
 */
export async function prepareRunFolder(runDir: string, options: TrainRunOptions, resume: boolean): Promise<void> {
  const files = runFiles(runDir);
  await mkdir(runDir, { recursive: true });
  for (const name of await readdir(runDir)) if (/\.tmp-\d+$/.test(name)) await rm(join(runDir, name), { force: true });
  if (resume) return;
  for (const file of [files.split, files.log, files.badFiles]) await rm(file, { force: true });
  await writeFile(files.options, JSON.stringify(options, null, 2));
}

/**
 * Keeps the log's first `epochs` lines: those the checkpoint covers. A kill between an epoch's log
 * line and its checkpoint would otherwise leave a line for an epoch the resumed run runs again.
 */
export async function trimLog(runDir: string, epochs: number): Promise<void> {
  const { log } = runFiles(runDir);
  if (!existsSync(log)) return;
  const lines = (await readFile(log, 'utf8')).split('\n').filter((line) => line.length > 0);
  if (lines.length > epochs) await writeFile(log, lines.slice(0, epochs).map((line) => `${line}\n`).join(''));
}

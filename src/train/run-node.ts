/**
 * A training run on disk, as `webgpu-transfer train` performs it: the dataset folder through the
 * loader and the GPU transforms, a model with pretrained weights, the plan's phases, and a run
 * folder holding what a run leaves behind:
 *
 *   options.json         the run's options (a resume must match them)
 *   split.json           the split of a single folder into training and validation (a resume keeps it)
 *   log.jsonl            one JSON line per epoch (loss, accuracy, lr, images/s, skipped files)
 *   checkpoint.safetensors  the last checkpoint, written atomically after every epoch and on Ctrl-C
 *   best.safetensors     the weights with the best validation accuracy (torchvision's names), with
 *                        the classes, model and image sizes in its metadata (weightsMetadata)
 *   curves.svg           loss and accuracy curves
 *   bad-files.txt        every file skipped, with the reason
 *   grad-flow.jsonl, grad-flow.svg  with --grad-monitor N: per layer and sampled step, gradient
 *                        and update norms and the backward kernels run; the heat map (layers x steps)
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpuContext } from '../runtime/context.js';
import { adapterLabel } from '../runtime/adapter.js';
import type { Module } from '../nn/module.js';
import { createModel } from '../models/registry.js';
import { loadWeightsFile, saveSafetensors } from '../models/node-weights.js';
import { loadDataset } from '../data/split.js';
import { decodeImageFile } from '../data/decode-node.js';
import { DEFAULT_DECODE_OPTIONS } from '../data/decode-contract.js';
import { BatchLoader } from '../data/loader.js';
import { BadFileLog, formatBadFiles, type BadFileReport } from '../data/bad-file.js';
import { Augmenter } from '../data/augment/augmenter.js';
import type { TrainTransformOptions } from '../data/augment/options.js';
import { describeFeatureCache } from './feature-cache.js';
import { Trainer, freshPosition, StoppedError, type CheckpointEvery, type EpochRecord, type TrainerData, type TrainerPosition } from './trainer.js';
import { planPhases, type PlanName, type PlanOptions } from './plan.js';
import { saveCheckpoint, loadCheckpoint } from './checkpoint-node.js';
import { checkRunFolder, prepareRunFolder, runFiles, trimLog } from './run-folder.js';
import { curvesSvg } from './curves.js';
import { ProgressPrinter } from './progress.js';
import { GradientMonitor } from './grad-monitor.js';
import { appendGradFlowLog, writeGradFlowHeatMap } from './grad-monitor-node.js';
import { describeTuning } from '../kernels/conv2d-tuning.js';
import { defaultTuningFile, loadTuning, saveTuning, tuningIdentity, type TuningIdentity } from './tuning-file-node.js';
import { GpuFailureError, InputError } from '../runtime/errors.js';

export interface TrainRunOptions extends PlanOptions {
  data: string;
  model: string;
  weights?: string;
  plan: PlanName;
  batchSize: number;
  seed: number;
  imageSize: number;
  resize: number;
  out: string;
  /** The random training transform; null: training takes the validation transform (`--no-augment`). */
  augment: TrainTransformOptions | null;
  validationFraction: number;
  progressEvery: number;
  /** Sample the gradient flow every this many steps (0 or absent: off). */
  gradMonitor?: number;
  /** Time the GPU convolution tiles per layer before the first step (TrainerOptions.tuneKernels). */
  tuneKernels?: boolean;
  /** With tuneKernels: where the choices are kept between runs (default `defaultTuningFile()`; null: not kept). */
  tuningFile?: string | null;
  /** MiB for the frozen base's kept outputs (TrainerOptions.featureCacheBytes; 0: off; absent: its default). */
  featureCacheMb?: number;
  /** Checkpoints inside an epoch too (TrainerOptions.checkpointEvery); absent: after each epoch only. */
  checkpointEvery?: CheckpointEvery;
}

/** What a run's checkpoint carries beside the training state: its options and the files found bad so far. */
type RunCheckpoint = TrainRunOptions & { badFiles?: BadFileReport[] };

export interface TrainRunResult {
  history: EpochRecord[];
  bestAccuracy: number;
  /** The class names, in the head's order (the rows and columns of a record's valConfusion). */
  classes: readonly string[];
  runDir: string;
  stopped: boolean;
}

export interface TrainRunControl {
  /** Continue the run in `options.out` from its last checkpoint (its options must match). */
  resume?: boolean;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
}

export async function trainRun(ctx: GpuContext, options: TrainRunOptions, { resume = false, log = console.log }: TrainRunControl = {}): Promise<TrainRunResult> {
  const runDir = options.out;
  const files = runFiles(runDir);
  await checkRunFolder(runDir, options, resume);
  await prepareRunFolder(runDir, options, resume);

  const dataset = await loadDataset(options.data, { seed: options.seed, validationFraction: options.validationFraction, manifestPath: files.split });
  for (const [part, samples] of [['training', dataset.train], ['validation', dataset.validation]] as const) {
    if (samples.length === 0) {
      throw new InputError(`${options.data}: no ${part} images (${dataset.classes.length} classes, split by ${dataset.splitBy}${dataset.splitBy === 'seed' ? ` with --val-fraction ${options.validationFraction}` : ''}); add images or change the split`);
    }
  }
  log(`data: ${dataset.classes.length} classes (${dataset.classes.join(', ')}), ${dataset.train.length} training and ${dataset.validation.length} validation images (split by ${dataset.splitBy})`);
  const badFiles = new BadFileLog();
  for (const report of dataset.badFiles) badFiles.add(report);
  const decode = (path: string) => decodeImageFile(path, { ...DEFAULT_DECODE_OPTIONS, minShorterSide: Math.max(options.resize, options.imageSize) });
  const validationView = { outputSize: options.imageSize, resize: options.resize }; // Resize + CenterCrop
  const data: TrainerData = {
    classes: dataset.classes,
    train: new BatchLoader(dataset.train, decode, { batchSize: options.batchSize, seed: options.seed, shuffle: true, badFiles }),
    validation: new BatchLoader(dataset.validation, decode, { batchSize: options.batchSize, seed: options.seed, shuffle: false, badFiles }),
    trainTransform: new Augmenter(ctx, options.augment ? { outputSize: options.imageSize, train: options.augment } : validationView),
    evalTransform: new Augmenter(ctx, validationView),
  };

  const model = createModel(options.model, { numClasses: dataset.classes.length, seed: options.seed, ctx });
  let position = freshPosition();
  let restore;
  let saved: Checkpointed | null = null; // where the last checkpoint written continues from
  if (resume) {
    const checkpoint = await loadCheckpoint<RunCheckpoint>(files.checkpoint, model);
    position = checkpoint.meta.position;
    restore = checkpoint.restore;
    // The files found bad before the checkpoint count as found, as in a run never stopped.
    for (const report of checkpoint.meta.options.badFiles ?? []) badFiles.add(report);
    await trimLog(runDir, position.history.length);
    saved = checkpointed(position);
    log(`resuming from ${files.checkpoint}: ${describePosition(saved)}`);
  } else if (options.weights) {
    const report = await loadWeightsFile(model, options.weights, { head: 'skip', strict: true });
    const under = report.wrapper ? ` from its state dict under '${report.wrapper}'` : '';
    log(`weights: ${options.weights} (${report.format}), ${report.loadedKeys.length} tensors loaded${under}, the head kept new for ${dataset.classes.length} classes`);
  } else if (options.plan !== 'scratch') {
    log('warning: no --weights: the base is randomly initialised, so freezing it trains a head on random features');
  }

  const progress = new ProgressPrinter();
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    progress.done();
    // Whether a checkpoint is saved depends on what has trained by then: StoppedError's message says.
    log('interrupted: stopping after the step in progress (press Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  const monitor = options.gradMonitor ? new GradientMonitor(model, { every: options.gradMonitor, onRecord: appendGradFlowLog(join(runDir, 'grad-flow.jsonl')) }) : undefined;
  const featureCacheBytes = options.featureCacheMb === undefined ? undefined : options.featureCacheMb * 2 ** 20;
  const tuning = options.tuneKernels ? await tuningFileFor(ctx, options.tuningFile, log) : null;
  const trainer = new Trainer(ctx, model, data, { seed: options.seed, progressEvery: options.progressEvery, tuneKernels: options.tuneKernels, featureCacheBytes, checkpointEvery: options.checkpointEvery }, {
    onTuned: async (layers) => {
      describeTuning(layers).forEach((line) => log(`tune-kernels: ${line}`));
      if (tuning && layers.some((layer) => !layer.reused)) await saveTuning(ctx, tuning.path, tuning.identity);
    },
    onFeatureCache: (event) => {
      progress.done();
      log(describeFeatureCache(event));
    },
    onStep: (info) => progress.step(info),
    watch: monitor,
    onEpoch: async (record) => {
      progress.done();
      log(formatEpoch(record));
      await appendFile(files.log, `${JSON.stringify({ ...record, badFiles: badFiles.reports.length })}\n`);
      if (badFiles.reports.length > 0) await writeFile(files.badFiles, formatBadFiles(badFiles.reports));
    },
    onBest: async () => saveSafetensors(model, files.best, weightsMetadata(options, dataset.classes)),
    checkpoint: async (state) => {
      await saveCheckpoint<RunCheckpoint>(files.checkpoint, model, state, { ...options, badFiles: badFiles.reports });
      saved = checkpointed(state.position);
    },
    shouldStop: () => stopRequested,
  });
  const phases = planPhases(options.plan, options);
  let stopped = false;
  try {
    await trainer.run(phases, position, restore);
  } catch (error) {
    // The GPU's state is gone with it; what the run keeps is its last checkpoint.
    if (error instanceof GpuFailureError) throw error.withNote(resumeNote(saved, files.checkpoint, options.checkpointEvery));
    if (!(error instanceof StoppedError)) throw error;
    log(error.message);
    stopped = true;
  } finally {
    process.off('SIGINT', onSigint);
  }
  await writeFile(join(runDir, 'curves.svg'), curvesSvg(position.history, `${options.model} on ${options.data} (${options.plan})`));
  if (monitor) {
    const title = `gradient flow: ${options.model} on ${options.data} (${options.plan}), every ${options.gradMonitor} steps`;
    await writeGradFlowHeatMap(join(runDir, 'grad-flow'), [{ title, records: monitor.records }], { metric: 'grad', subtitle: `adapter: ${adapterLabel(ctx.adapter)}` });
    log(`gradient flow: ${monitor.records.length} sampled steps in ${join(runDir, 'grad-flow.jsonl')}, heat map in ${join(runDir, 'grad-flow.svg')}`);
  }
  if (badFiles.reports.length > 0) log(`skipped ${badFiles.reports.length} bad files (listed in ${files.badFiles})`);
  model.dispose();
  return { history: position.history, bestAccuracy: position.bestAccuracy, classes: dataset.classes, runDir, stopped };
}

/** Where a checkpoint continues from (a trainer's position is updated in place as it runs). */
type Checkpointed = Pick<TrainerPosition, 'phaseIndex' | 'epoch' | 'batchesDone'>;

const checkpointed = ({ phaseIndex, epoch, batchesDone }: TrainerPosition): Checkpointed => ({ phaseIndex, epoch, batchesDone });

const describePosition = (p: Checkpointed) => `phase ${p.phaseIndex + 1}, epoch ${p.epoch + 1}, batch ${p.batchesDone}`;

/** What a run that failed with its GPU keeps, and how to go on. */
function resumeNote(saved: Checkpointed | null, checkpoint: string, every: CheckpointEvery | undefined): string {
  if (!saved) {
    const when = every
      ? `after every epoch and ${[every.steps && `every ${every.steps} steps`, every.minutes && `every ${every.minutes} minutes`].filter(Boolean).join(' or ')}`
      : 'after every epoch; checkpointEvery (--checkpoint-minutes, --checkpoint-every) writes them inside one too';
    return `no checkpoint was written yet (one is ${when}): run the same command again`;
  }
  return `the checkpoint ${checkpoint} is intact: the same command with --resume continues from ${describePosition(saved)}`;
}

/**
 * The tuning file of a `--tune-kernels` run, its choices for this adapter and engine restored into
 * `ctx` (logged); null where none is kept: `--tuning-file none`, or an engine with uncommitted changes.
 */
async function tuningFileFor(ctx: GpuContext, file: string | null | undefined, log: (line: string) => void): Promise<{ path: string; identity: TuningIdentity } | null> {
  if (file === null) return null;
  const path = file ?? defaultTuningFile();
  const identity = tuningIdentity(ctx);
  if (!identity) {
    log(`tune-kernels: the engine has uncommitted changes, so ${path} is neither read nor written`);
    return null;
  }
  const restored = await loadTuning(ctx, path, identity);
  if (restored > 0) log(`tune-kernels: ${restored} choices from ${path}, measured before on this adapter by this engine`);
  return { path, identity };
}

/**
 * What best.safetensors records beside the weights, so that `eval` and `predict` need no more
 * than the file: the class names in the head's order, the architecture, and the validation
 * transform's sizes (safetensors metadata values are strings).
 */
export function weightsMetadata(options: Pick<TrainRunOptions, 'model' | 'imageSize' | 'resize'>, classes: readonly string[]): Record<string, string> {
  return { classes: JSON.stringify(classes), model: options.model, imageSize: String(options.imageSize), resize: String(options.resize) };
}

export function formatEpoch(r: EpochRecord): string {
  return (
    `${r.phase} epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)} acc ${(100 * r.trainAccuracy).toFixed(1)}% | ` +
    `val loss ${r.valLoss.toFixed(4)} acc ${(100 * r.valAccuracy).toFixed(1)}% | lr ${r.lr.toExponential(2)} | ` +
    `${r.imagesPerSecond.toFixed(1)} img/s | ${r.seconds.toFixed(1)} s${r.skippedFiles ? ` | ${r.skippedFiles} files skipped` : ''}`
  );
}

export type { Module };

/**
 * The training loop: epochs of a training and a validation pass over image batches, phase by
 * phase (plan.ts). One training step is forward, loss, backward and the optimiser update,
 * recorded into one command buffer and submitted once; metrics stay on the GPU until the epoch
 * ends. Browser-safe: files (checkpoints, logs, curves) are the job of hooks (see run-node.ts).
 */
import { OptionRangeError } from '../runtime/errors.js';
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { tidy } from '../autograd/scope.js';
import { backward } from '../ops/grad.js';
import { crossEntropy, accuracy } from '../ops/loss.js';
import type { Module } from '../nn/module.js';
import type { GpuContext } from '../runtime/context.js';
import type { ImageBatch } from '../data/pack-batch.js';
import { labelsOf } from '../data/pack-batch.js';
import type { BadFileReport } from '../data/bad-file.js';
import type { Augmenter } from '../data/augment/augmenter.js';
import { freeze, unfreeze, unfreezeFrom, freezeAllButHead, moduleIndex, type FreezeOptions } from '../models/freeze.js';
import { ConfusionCounts, EpochMetrics } from './metrics.js';
import type { PhaseConfig } from './plan.js';
import { createOptimizer, createScheduler, type TrainOptimizer, type TrainScheduler } from './optimizer.js';
import type { TunedLayer } from '../kernels/conv2d-tuning.js';
import { tuneModelKernels } from './tune-kernels.js';
import { DEFAULT_FEATURE_CACHE_BYTES, FeatureCache, frozenSplit, type FeatureCacheEvent } from './feature-cache.js';
import { SampleFeatureCache } from './sample-feature-cache.js';

/** Where batches come from: the data loader, or anything that yields packed uint8 batches. */
export interface BatchSource {
  readonly samples: { length: number };
  /** Images per batch (the last one may hold fewer). */
  readonly batchSize: number;
  epoch(epoch: number): AsyncIterable<ImageBatch>;
  readonly badFiles?: { reports: readonly BadFileReport[] };
  /**
   * Optional: the order in which epoch `epoch` visits the samples, and whether a short last batch
   * is dropped. With the order (and no batch dropped), a frozen base's training outputs can be
   * kept across epochs when the training transform is not random (sample-feature-cache.ts).
   */
  order?(epoch: number): Uint32Array;
  readonly dropLast?: boolean;
}

export interface TrainerData {
  classes: readonly string[];
  train: BatchSource;
  validation: BatchSource;
  /**
   * GPU transforms: random augmentation for training (or, without augmentation, a Resize +
   * CenterCrop transform here too), Resize + CenterCrop for validation.
   */
  trainTransform: Augmenter;
  evalTransform: Augmenter;
}

export interface EpochRecord {
  phase: string;
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  /**
   * Validation images per (true class, predicted class), a row per true class, for up to
   * MAX_RECORDED_CONFUSION classes (the records go into every checkpoint and log line). Absent
   * beyond that, and from the records of runs saved before it was counted.
   */
  valConfusion?: number[][];
  imagesPerSecond: number;
  seconds: number;
  skippedFiles: number;
  trainable: number;
}

export interface StepInfo {
  phase: string;
  epoch: number;
  batch: number;
  batches: number;
  images: number;
  elapsed: number;
  /** Present every `progressEvery` steps: reading it costs a GPU sync. */
  loss?: number;
}

/** Where a run stands: enough to resume it exactly. */
export interface TrainerPosition {
  phaseIndex: number;
  /** Epoch within the phase (0-based) and batches of it already done. */
  epoch: number;
  batchesDone: number;
  metricSums: { lossSum: number; correct: number; samples: number } | null;
  history: EpochRecord[];
  bestAccuracy: number;
}

/** Where a training step is: its phase, epoch (0-based) and batch (1-based) within the epoch. */
export interface StepPosition {
  phase: string;
  epoch: number;
  batch: number;
}

/**
 * Watches a training step from the inside (the gradient-flow monitor, train/grad-monitor.ts).
 * The first two calls run inside the step, so whatever GPU work they record goes into the step's
 * one submit; `afterStep` runs after that submit and is the one place a watcher may read back.
 */
export interface StepWatcher {
  /** The loss's graph is complete and backward has not run; the parameters are as before the update. */
  beforeBackward(loss: Tensor, at: StepPosition): void;
  /** The optimiser has updated the parameters; their gradients are not yet released. */
  afterUpdate(): void;
  afterStep(): Promise<void>;
}

/** What a checkpoint must hold: where the run is, and the optimiser's and scheduler's state. */
export interface CheckpointState {
  position: TrainerPosition;
  optimizer: TrainOptimizer;
  scheduler: TrainScheduler;
}

export interface TrainerHooks {
  /** A phase begins: its parameters are frozen or trainable as it says, and nothing of it has trained yet. */
  onPhase?(phase: PhaseConfig, index: number): void | Promise<void>;
  onStep?(info: StepInfo): void;
  /**
   * Optional: without it a step is exactly forward, backward, update, one submit. Several
   * watchers (the gradient-flow monitor and a page's pacing) are called in the list's order.
   */
  watch?: StepWatcher | readonly StepWatcher[];
  onEpoch?(record: EpochRecord): void | Promise<void>;
  /** Called after each epoch, on request (Ctrl-C) and as TrainerOptions.checkpointEvery asks, with what a checkpoint must hold. */
  checkpoint?(state: CheckpointState): Promise<void>;
  /** Called when validation accuracy improves: keep these weights (the run's result). */
  onBest?(record: EpochRecord): void | Promise<void>;
  /** Polled after every step and before every epoch; true stops the run (after a checkpoint, mid-epoch). */
  shouldStop?(): boolean;
  /** What `tuneKernels` measured (or kept from before), before the first step. */
  onTuned?(layers: TunedLayer[]): void | Promise<void>;
  /**
   * After a phase's first validation pass, and (training without augmentation) its first epoch's
   * training pass: what it kept of the frozen base (`featureCacheBytes`), or why nothing.
   */
  onFeatureCache?(event: FeatureCacheEvent): void;
}

export interface TrainerOptions {
  seed: number;
  freeze?: FreezeOptions;
  /** Read the loss back every this many steps for progress (0: never; costs a GPU sync each). */
  progressEvery?: number;
  /**
   * Before the first step, time the GPU convolution's tiles on each of the model's layers and
   * keep the fastest (kernels/conv2d-tuning.ts; like cudnn.benchmark). Changes speed, not
   * results; nothing to tune on CPU adapters. A layer the context already has a choice for
   * (`restoreChoices`, e.g. from `train`'s tuning file) is not timed again.
   */
  tuneKernels?: boolean;
  /**
   * While the base is frozen, validation runs it once per phase and keeps its outputs for the
   * later epochs (train/feature-cache.ts; the same figures, bit for bit); so does training when
   * its transform is not random (sample-feature-cache.ts). The most GPU memory those outputs may
   * take together (default 512 MiB); 0 runs the whole model on every pass.
   */
  featureCacheBytes?: number;
  /**
   * Checkpoint inside an epoch too (TrainerHooks.checkpoint, with the batches done so far), so
   * that a crash costs at most this much training: after `steps` steps, or once `minutes` have
   * passed since the last checkpoint, whichever comes first. Default: after each epoch only.
   * Each costs a readback of the weights and the optimiser's state, and changes no result:
   * VGG16 with momentum (1 GiB, streamed a tensor at a time) took 1.5-3.8 s to read back, write
   * and sync (2.1-2.6 s the first), on lavapipe and this VM's disk, beside 1.8 s steps at 64x64.
   */
  checkpointEvery?: CheckpointEvery;
}

export interface CheckpointEvery {
  steps?: number;
  minutes?: number;
}

export interface EvaluationResult {
  loss: number;
  accuracy: number;
  samples: number;
  /** Images per (true class, predicted class), a row per true class; present when asked for. */
  confusion?: number[][];
}

/** Classes up to which an epoch's record keeps its validation confusion matrix (100 classes: 10,000 numbers). */
export const MAX_RECORDED_CONFUSION = 100;

/** One training step's batch: its size, and its logits and labels, recorded when asked (inside the step's scope). */
interface StepBatch {
  size: number;
  forward(): { logits: Tensor; labels: Tensor };
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

export class StoppedError extends Error {
  override name = 'StoppedError';
}

export class Trainer {
  /** The frozen base's validation outputs in this phase, once a pass has kept them. */
  private validationCache: FeatureCache | null = null;
  /** ...and its training outputs per sample, when the training transform is not random. */
  private trainingCache: SampleFeatureCache | null = null;
  /** Steps trained, and when, since the last checkpoint (TrainerOptions.checkpointEvery). */
  private sinceCheckpoint = { steps: 0, at: performance.now() };

  constructor(
    readonly ctx: GpuContext,
    readonly model: Module,
    readonly data: TrainerData,
    readonly options: TrainerOptions,
    readonly hooks: TrainerHooks = {},
  ) {}

  /** Runs `phases` from `position` (a fresh run, or a checkpoint's). Returns the epoch history. */
  async run(phases: readonly PhaseConfig[], position: TrainerPosition = freshPosition(), restore?: (o: TrainOptimizer, s: TrainScheduler) => Promise<void>): Promise<EpochRecord[]> {
    this.checkPhases(phases.slice(position.phaseIndex));
    checkCheckpointEvery(this.options.checkpointEvery);
    if (this.options.tuneKernels) await this.tuneKernels();
    this.sinceCheckpoint = { steps: 0, at: performance.now() };
    for (let p = position.phaseIndex; p < phases.length; p++) {
      const phase = phases[p]!;
      this.applyTrainable(phase);
      await this.hooks.onPhase?.(phase, p);
      const optimizer = createOptimizer(this.model, phase);
      try { // stopped or failed, the optimiser's state (momentum: a copy of the trained weights) is freed
        const scheduler = createScheduler(optimizer, phase);
        const resuming = p === position.phaseIndex && (position.epoch > 0 || position.batchesDone > 0);
        if (resuming && restore) await restore(optimizer, scheduler);
        const firstEpoch = resuming ? position.epoch : 0;
        for (let epoch = firstEpoch; epoch < phase.epochs; epoch++) {
          // A stop asked between epochs (while validating, or in onEpoch) takes no step of the next.
          if (this.hooks.shouldStop?.()) throw new StoppedError(`stopped before ${phase.name} epoch ${epoch + 1}${this.savedNote(position)}`);
          const skip = resuming && epoch === firstEpoch ? position.batchesDone : 0;
          const sums = skip > 0 ? position.metricSums : null;
          const record = await this.runEpoch(phase, p, epoch, optimizer, scheduler, position, skip, sums);
          position.history.push(record);
          scheduler.step();
          Object.assign(position, { phaseIndex: p, epoch: epoch + 1, batchesDone: 0, metricSums: null });
          if (record.valAccuracy > position.bestAccuracy) {
            position.bestAccuracy = record.valAccuracy;
            await this.hooks.onBest?.(record);
          }
          await this.hooks.onEpoch?.(record);
          await this.checkpoint({ position: advance(position, phases, p), optimizer, scheduler });
        }
      } finally {
        optimizer.dispose();
        this.dropCaches(); // the next phase freezes differently
      }
      Object.assign(position, { phaseIndex: p + 1, epoch: 0, batchesDone: 0 });
    }
    return position.history;
  }

  private async checkpoint(state: CheckpointState): Promise<void> {
    await this.hooks.checkpoint?.(state);
    this.sinceCheckpoint = { steps: 0, at: performance.now() };
  }

  /** Whether TrainerOptions.checkpointEvery asks for a checkpoint now. */
  private checkpointDue(): boolean {
    const every = this.options.checkpointEvery;
    if (!every || !this.hooks.checkpoint) return false;
    const { steps, at } = this.sinceCheckpoint;
    return steps >= (every.steps ?? Infinity) || performance.now() - at >= (every.minutes ?? Infinity) * 60_000;
  }

  /** How a stop message ends: whether a checkpoint holds what was trained up to `position`. */
  private savedNote(position: TrainerPosition): string {
    const trained = position.history.length > 0 || position.batchesDone > 0;
    return this.hooks.checkpoint && trained ? '; a checkpoint was saved' : '';
  }

  /** Times the convolution tiles on the model's layers at the training batch's shape (`tuneKernels`). */
  private async tuneKernels(): Promise<void> {
    const { outHeight, outWidth } = this.data.trainTransform.options;
    const images = Tensor.empty(this.ctx, [this.data.train.batchSize, 3, outHeight, outWidth], 'float32', 'tuning batch');
    try {
      // What the context already has (tuned earlier, or read from a file) is not timed again.
      await this.hooks.onTuned?.(await tuneModelKernels(this.model, images, { reuse: true }));
    } finally {
      images.dispose();
    }
  }

  /**
   * Loss and accuracy of the model on a source, evaluation transform, no gradients; with
   * `confusion`, also how often each class was predicted as each other.
   */
  async evaluate(source: BatchSource, transform = this.data.evalTransform, options: { confusion?: boolean } = {}): Promise<EvaluationResult> {
    return this.evaluatePass(source, transform, null, options.confusion ?? false);
  }

  /**
   * An epoch's validation, with its confusion counts: from the frozen base's kept outputs where the
   * phase has them.
   */
  private async validate(): Promise<EvaluationResult> {
    const confusion = this.data.classes.length <= MAX_RECORDED_CONFUSION;
    const cache = this.cacheForValidation();
    if (cache?.ready) return this.evaluateKept(cache, confusion);
    const result = await this.evaluatePass(this.data.validation, this.data.evalTransform, cache, confusion);
    const event = cache?.complete();
    if (event) this.hooks.onFeatureCache?.(event);
    return result;
  }

  /** This phase's cache, while it holds; a new one if the model has frozen leading layers. */
  private cacheForValidation(): FeatureCache | null {
    if (this.validationCache?.stillValid) return this.validationCache;
    this.dropValidationCache();
    // What the training cache holds comes out of the same budget.
    const maxBytes = this.cacheBudget() - (this.trainingCache?.bytes ?? 0);
    const split = maxBytes > 0 ? frozenSplit(this.model) : null;
    if (split) this.validationCache = new FeatureCache(split, maxBytes, this.data.validation.samples.length);
    return this.validationCache;
  }

  /**
   * The training cache for an epoch that starts at its first batch: this phase's while it holds,
   * else a new one where the training transform is not random, the source gives its order and
   * trains every sample in each epoch (it drops no short batch), and the model has frozen leading
   * layers (in training mode).
   */
  private cacheForTraining(): SampleFeatureCache | null {
    if (this.trainingCache?.stillValid) return this.trainingCache;
    this.dropTrainingCache();
    const { train, trainTransform } = this.data;
    if (trainTransform.isTrain || !train.order || train.dropLast || this.cacheBudget() <= 0) return null;
    const split = frozenSplit(this.model, 'train');
    // Validation's cache is usually made after (at the epoch's end), unless an epoch resumed mid-way made it first.
    const maxBytes = this.cacheBudget() - (this.validationCache?.bytes ?? 0);
    if (split) this.trainingCache = new SampleFeatureCache(this.ctx, split, maxBytes, train.samples.length);
    return this.trainingCache;
  }

  private cacheBudget(): number {
    return this.options.featureCacheBytes ?? DEFAULT_FEATURE_CACHE_BYTES;
  }

  private dropValidationCache(): void {
    this.validationCache?.dispose();
    this.validationCache = null;
  }

  private dropTrainingCache(): void {
    this.trainingCache?.dispose();
    this.trainingCache = null;
  }

  private dropCaches(): void {
    this.dropValidationCache();
    this.dropTrainingCache();
  }

  /** A pass over a source; with a cache that is filling, the frozen layers' outputs are kept. */
  private async evaluatePass(source: BatchSource, transform: Augmenter, cache: FeatureCache | null, confusion: boolean): Promise<EvaluationResult> {
    try {
      return await this.score(source.epoch(0), (batch) => {
        const { images, labels } = this.upload(batch, transform, 0);
        const logits = cache?.filling ? cache.forward(images, labels, batch.size) : this.model.forward(images);
        return { logits, labels, size: batch.size };
      }, confusion);
    } catch (error) {
      if (cache) this.dropValidationCache(); // a partial pass must not be taken for a whole one
      throw error;
    }
  }

  /** The pass again from kept features: the layers after the frozen ones, batch by batch as before. */
  private evaluateKept(cache: FeatureCache, confusion: boolean): Promise<EvaluationResult> {
    return this.score(cache.kept, ({ features, labels, size }) => ({ logits: cache.logitsOf(features), labels, size }), confusion);
  }

  /**
   * Loss and accuracy (and, with `countConfusion`, the confusion counts) summed over batches in
   * eval mode, without gradients, one submit per batch.
   */
  private async score<B>(batches: Iterable<B> | AsyncIterable<B>, logitsOf: (batch: B) => { logits: Tensor; labels: Tensor; size: number }, countConfusion: boolean): Promise<EvaluationResult> {
    this.model.eval();
    const metrics = new EpochMetrics(this.ctx);
    const confusion = countConfusion ? new ConfusionCounts(this.ctx, this.data.classes.length) : null;
    try {
      for await (const batch of batches) {
        noGrad(() =>
          tidy(() => {
            const { logits, labels, size } = logitsOf(batch);
            metrics.add(crossEntropy(logits, labels), accuracy(logits, labels), size);
            confusion?.add(logits, labels);
          }),
        );
        this.ctx.recorder.flush();
      }
      const [result, counts] = await Promise.all([metrics.read(), confusion?.read()]); // one wait for both
      return counts ? { ...result, confusion: counts } : result;
    } finally {
      metrics.dispose(); // however the pass ends: a failed or stopped run must not keep its sums
      confusion?.dispose();
    }
  }

  private async runEpoch(
    phase: PhaseConfig,
    phaseIndex: number,
    epoch: number,
    optimizer: TrainOptimizer,
    scheduler: TrainScheduler,
    position: TrainerPosition,
    skip: number,
    sums: TrainerPosition['metricSums'],
  ): Promise<EpochRecord> {
    const started = performance.now();
    const batches = Math.ceil(this.data.train.samples.length / this.data.train.batchSize);
    const skippedBefore = this.data.train.badFiles?.reports.length ?? 0;
    // Each epoch of each phase draws its own shuffle and augmentation: the key is global.
    const dataEpoch = phaseIndex * 10_000 + epoch;
    let batchIndex = 0;
    let images = 0;
    let train: Awaited<ReturnType<EpochMetrics['read']>>;
    let trainSeconds: number;
    const metrics = new EpochMetrics(this.ctx);
    try {
      if (sums) metrics.restore(sums.lossSum, sums.correct, sums.samples);
      this.model.train();
      const watchers = [this.hooks.watch ?? []].flat();
      // An epoch resumed mid-way visits only some samples: it neither fills the cache nor uses it.
      const cache = skip === 0 ? this.cacheForTraining() : null;
      for await (const batch of this.trainingBatches(dataEpoch, cache)) {
        if (batchIndex < skip) {
          batchIndex++;
          continue; // resumed mid-epoch: these were trained before the interruption
        }
        tidy(() => {
          const { logits, labels } = batch.forward();
          const loss = crossEntropy(logits, labels);
          metrics.add(loss, accuracy(logits, labels), batch.size);
          for (const watcher of watchers) watcher.beforeBackward(loss, { phase: phase.name, epoch, batch: batchIndex + 1 });
          backward(loss);
          optimizer.step();
          for (const watcher of watchers) watcher.afterUpdate();
          optimizer.zeroGrad();
        });
        this.ctx.recorder.flush(); // the whole step: one submit
        for (const watcher of watchers) await watcher.afterStep();
        batchIndex++;
        images += batch.size;
        const every = this.options.progressEvery ?? 0;
        const info: StepInfo = { phase: phase.name, epoch, batch: batchIndex, batches, images, elapsed: (performance.now() - started) / 1000 };
        if (every > 0 && batchIndex % every === 0) {
          const m = await metrics.read();
          if (!Number.isFinite(m.loss)) throw new NonFiniteLossError(nonFiniteMessage(phase, epoch, batchIndex, m.loss));
          info.loss = m.loss;
        }
        this.hooks.onStep?.(info);
        this.sinceCheckpoint.steps++;
        const stop = this.hooks.shouldStop?.();
        // A periodic checkpoint at an epoch's last batch would be followed by the epoch's own.
        if (stop || (batchIndex < batches && this.checkpointDue())) {
          const partial: TrainerPosition = { ...position, phaseIndex, epoch, batchesDone: batchIndex, metricSums: await metrics.sums() };
          await this.checkpoint({ position: partial, optimizer, scheduler });
          if (stop) throw new StoppedError(`stopped at ${phase.name} epoch ${epoch + 1}, batch ${batchIndex}${this.savedNote(partial)}`);
        }
      }
      const event = cache?.complete(); // the epoch visited every sample
      if (event) this.hooks.onFeatureCache?.(event);
      // Reading the sums waits for the GPU: only then is the epoch's training time known.
      train = await metrics.read();
      trainSeconds = (performance.now() - started) / 1000;
    } finally {
      metrics.dispose(); // however the epoch ends: a failed or stopped run must not keep its sums
    }
    if (!Number.isFinite(train.loss)) throw new NonFiniteLossError(nonFiniteMessage(phase, epoch, batchIndex, train.loss));
    const val = await this.validate();
    return {
      phase: phase.name,
      epoch: epoch + 1,
      lr: scheduler.getLastLr()[0]!,
      trainLoss: train.loss,
      trainAccuracy: train.accuracy,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      valConfusion: val.confusion,
      imagesPerSecond: images / Math.max(trainSeconds, 1e-9),
      seconds: (performance.now() - started) / 1000,
      skippedFiles: (this.data.train.badFiles?.reports.length ?? 0) - skippedBefore,
      trainable: this.model.parameters().filter((p) => p.requiresGrad).length,
    };
  }

  /**
   * An epoch's training batches: from the loader, through the whole model (keeping the frozen
   * layers' outputs while `cache` fills), or from the kept outputs once `cache` is complete.
   */
  private async *trainingBatches(dataEpoch: number, cache: SampleFeatureCache | null): AsyncGenerator<StepBatch> {
    const { train, trainTransform } = this.data;
    if (cache?.ready) {
      for (const samples of cache.batches(train.order!(dataEpoch), train.batchSize)) {
        yield {
          size: samples.length,
          forward: () => {
            const { features, labels } = cache.replay(samples);
            return { logits: cache.logitsOf(features), labels };
          },
        };
      }
      return;
    }
    for await (const batch of train.epoch(dataEpoch)) {
      yield {
        size: batch.size,
        forward: () => {
          const { images, labels } = this.upload(batch, trainTransform, dataEpoch);
          const logits = cache?.filling ? cache.forward(images, batch.sampleIndices, labelsOf(batch)) : this.model.forward(images);
          return { logits, labels };
        },
      };
    }
  }

  /** One upload of the packed bytes, the GPU transform, and the labels as int32. */
  private upload(batch: ImageBatch, transform: Augmenter, epoch: number): { images: Tensor; labels: Tensor } {
    const { images } = transform.apply(batch, { seed: this.options.seed, epoch });
    return { images, labels: Tensor.fromData(this.ctx, labelsOf(batch), [batch.size], 'int32', 'labels') };
  }

  /**
   * Every phase's settings, checked before the first trains: a bad module path or learning rate
   * in a later phase would otherwise fail only after the earlier ones had run (hours, for VGG16
   * on a CPU adapter). The optimisers hold no state until they step, so making them costs nothing.
   */
  private checkPhases(phases: readonly PhaseConfig[]): void {
    for (const phase of phases) {
      if (phase.trainable.kind === 'from') moduleIndex(this.model, phase.trainable.path);
      const optimizer = createOptimizer(this.model, phase);
      createScheduler(optimizer, phase);
      optimizer.dispose();
    }
  }

  private applyTrainable(phase: PhaseConfig): void {
    const options = this.options.freeze ?? {};
    const all = (name: string) => name.length > 0;
    switch (phase.trainable.kind) {
      case 'head':
        freezeAllButHead(this.model, options);
        break;
      case 'all':
        unfreeze(this.model, all, options);
        break;
      case 'from':
        freeze(this.model, all, options);
        unfreezeFrom(this.model, phase.trainable.path, options);
        break;
    }
  }
}

export function freshPosition(): TrainerPosition {
  return { phaseIndex: 0, epoch: 0, batchesDone: 0, metricSums: null, history: [], bestAccuracy: -1 };
}

function checkCheckpointEvery(every: CheckpointEvery | undefined): void {
  if (every?.steps !== undefined && !(Number.isInteger(every.steps) && every.steps > 0)) throw new OptionRangeError(`checkpointEvery.steps must be a whole number above 0; got ${every.steps}`);
  if (every?.minutes !== undefined && !(every.minutes > 0)) throw new OptionRangeError(`checkpointEvery.minutes must be above 0; got ${every.minutes}`);
}

/** The position after an epoch: the next epoch, or the next phase's first. */
function advance(position: TrainerPosition, phases: readonly PhaseConfig[], p: number): TrainerPosition {
  if (position.epoch < phases[p]!.epochs) return position;
  return { ...position, phaseIndex: p + 1, epoch: 0, batchesDone: 0 };
}

function nonFiniteMessage(phase: PhaseConfig, epoch: number, batch: number, loss: number): string {
  return (
    `the training loss became ${loss} in phase '${phase.name}', epoch ${epoch + 1}, by batch ${batch}: ` +
    `the run stops here and the last good checkpoint is kept. Try a lower learning rate (now ${phase.lr}).`
  );
}

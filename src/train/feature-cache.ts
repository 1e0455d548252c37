/**
 * The validation pass of a frozen base, computed once per phase.
 *
 * While the base is frozen, validation asks it the same question every epoch: the same images,
 * the same Resize + CenterCrop, eval mode, weights that do not move. So the first validation pass
 * of a phase keeps, batch by batch, the output of the model's frozen leading layers, and the later
 * passes run only the layers after them on what was kept: no decoding, no upload, no transform,
 * no base forward. They are the same batches through the same kernels, so the figures are the
 * same bits as without the cache. VGG16 with a frozen base keeps 4096 numbers per image (the
 * input of `classifier.6`; dropout is the identity in eval mode), ResNet18 512.
 *
 * The frozen leading layers are the longest run of the model's layers (`Sequenced`) from its
 * input that holds no trainable parameter and no BatchNorm that moves its running statistics
 * while training (bnMode 'follow-model'), stopping before the last layer. The cache is valid
 * while `frozenGeneration()` holds: freezing, unfreezing or loading weights ends it.
 */
import type { Tensor } from '../autograd/tensor.js';
import { keep } from '../autograd/scope.js';
import { frozenGeneration } from '../autograd/frozen-generation.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Dropout } from '../nn/dropout.js';
import type { Module } from '../nn/module.js';
import { chain, sequenceOf } from '../nn/sequential.js';
import { formatBytes } from '../runtime/errors.js';

/** The default budget: the cache is dropped (and the phase validates as before) beyond it. */
export const DEFAULT_FEATURE_CACHE_BYTES = 512 * 2 ** 20;

/** A model cut after its frozen leading layers. */
export interface FrozenSplit {
  frozen: readonly Module[];
  rest: readonly Module[];
  /** The module path of the last frozen layer (`classifier.5`), for messages. */
  lastFrozen: string;
}

/**
 * What a cache did in a phase, for a log line (TrainerHooks.onFeatureCache): validation's (this
 * file), or the training pass's without augmentation (sample-feature-cache.ts).
 */
export type FeatureCacheEvent =
  | { kind: 'kept'; pass: CachedPass; lastFrozen: string; images: number; bytes: number; perImage: readonly number[] }
  | { kind: 'too-large'; pass: CachedPass; lastFrozen: string; bytes: number; maxBytes: number; images: number };

export type CachedPass = 'validation' | 'training';

/** The event as a log line. */
export function describeFeatureCache(event: FeatureCacheEvent): string {
  const { pass } = event;
  if (event.kind === 'too-large') {
    return `${pass}: the frozen layers' outputs up to ${event.lastFrozen} would take ${formatBytes(event.bytes)} for ${event.images} images, over the cache's ${formatBytes(event.maxBytes)}: the whole model runs on every ${pass} pass`;
  }
  const outputs = `their outputs (${event.perImage.join('x')} per image, ${formatBytes(event.bytes)} for ${event.images} images)`;
  return pass === 'validation'
    ? `validation: the frozen layers up to ${event.lastFrozen} ran once; ${outputs} serve the rest of the phase`
    : `training: the frozen layers up to ${event.lastFrozen} ran once per image; the phase's later epochs train from ${outputs}, running only the layers after`;
}

export interface KeptBatch {
  features: Tensor;
  labels: Tensor;
  size: number;
}

/**
 * Where the model splits into frozen leading layers and the rest; null if nothing leads frozen.
 * In 'train' mode a dropout also ends the frozen layers: it draws a new mask every step.
 */
export function frozenSplit(model: Module, mode: 'eval' | 'train' = 'eval'): FrozenSplit | null {
  const layers = sequenceOf(model);
  if (!layers) return null;
  let count = 0;
  while (count < layers.length - 1 && staysFixed(layers[count]!, mode)) count++;
  if (count === 0) return null;
  const last = layers[count - 1]!;
  const path = model.namedModules().find(([, m]) => m === last)?.[0] ?? last.constructor.name;
  return { frozen: layers.slice(0, count), rest: layers.slice(count), lastFrozen: path };
}

/** Does the layer compute the same, in this mode, on the same image in every epoch of the phase? */
function staysFixed(layer: Module, mode: 'eval' | 'train'): boolean {
  if (layer.parameters().some((p) => p.requiresGrad)) return false;
  return layer.namedModules().every(([, m]) => {
    if (m instanceof BatchNorm2d) return m.statsFrozen;
    return !(mode === 'train' && m instanceof Dropout && m.p > 0);
  });
}

export class FeatureCache {
  private readonly batches: KeptBatch[] = [];
  private keptBytes = 0;
  private state: 'filling' | 'complete' | 'too-large' = 'filling';
  /** What a pass would have kept, when that was over the budget. */
  private projectedBytes = 0;
  private reported = false;
  private readonly generation = frozenGeneration();

  constructor(
    readonly split: FrozenSplit,
    private readonly maxBytes: number,
    /** Images in the pass, to refuse a cache that will not fit after the first batch. */
    private readonly expectedImages: number,
  ) {}

  /** Is the pass under way keeping outputs (not yet complete, not over the budget)? */
  get filling(): boolean {
    return this.state === 'filling';
  }

  /** Has a complete pass been kept, and does it still hold? */
  get ready(): boolean {
    return this.state === 'complete' && this.stillValid;
  }

  /** False once a layer was frozen or unfrozen, or weights were loaded, since the cache began. */
  get stillValid(): boolean {
    return frozenGeneration() === this.generation;
  }

  /**
   * A batch's logits through the whole model, in a pass that fills the cache: keeps the frozen
   * layers' output and the labels (they outlive the caller's scope) while they fit the budget.
   */
  forward(images: Tensor, labels: Tensor, size: number): Tensor {
    const features = chain(images, this.split.frozen);
    if (this.state === 'filling') {
      const projected = (features.byteSize / size) * this.expectedImages;
      if (projected > this.maxBytes) this.giveUp(projected);
      else {
        this.batches.push({ features: keep(features), labels: keep(labels), size });
        this.keptBytes += features.byteSize;
      }
    }
    return chain(features, this.split.rest);
  }

  /** The pass that filled it has ended: what it kept, or why it kept nothing (once per cache). */
  complete(): FeatureCacheEvent | null {
    if (this.reported) return null;
    this.reported = true;
    if (this.state === 'too-large') return this.tooLarge();
    this.state = 'complete';
    if (this.batches.length === 0) return null; // an empty validation set: nothing to say
    const images = this.batches.reduce((n, b) => n + b.size, 0);
    const perImage = this.batches[0]?.features.shape.slice(1) ?? [];
    return { kind: 'kept', pass: 'validation', lastFrozen: this.split.lastFrozen, images, bytes: this.keptBytes, perImage };
  }

  /** GPU memory the kept outputs hold. */
  get bytes(): number {
    return this.keptBytes;
  }

  /** The kept batches, in the order the pass gave them. */
  get kept(): readonly KeptBatch[] {
    return this.batches;
  }

  /** Logits from kept features: the layers after the frozen ones. */
  logitsOf(features: Tensor): Tensor {
    return chain(features, this.split.rest);
  }

  dispose(): void {
    for (const batch of this.batches) {
      batch.features.dispose();
      batch.labels.dispose();
    }
    this.batches.length = 0;
    this.keptBytes = 0;
  }

  /** Over the budget: keeps nothing more, and frees what it kept. */
  private giveUp(projectedBytes: number): void {
    this.dispose();
    this.state = 'too-large';
    this.projectedBytes = projectedBytes;
  }

  private tooLarge(): FeatureCacheEvent {
    return { kind: 'too-large', pass: 'validation', lastFrozen: this.split.lastFrozen, bytes: this.projectedBytes, maxBytes: this.maxBytes, images: this.expectedImages };
  }
}

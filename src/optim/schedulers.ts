import { OptionRangeError } from '../runtime/errors.js';

/**
 * Learning-rate schedules, computed on the CPU and written into the optimizer's groups.
 *
 * `step()` is meant to be called once per EPOCH, and every period below (stepSize, milestones,
 * tMax, warmupEpochs) counts epochs, as in torch.optim.lr_scheduler's usual use. This is not a
 * detail: the study notebook this project started from called StepLR(step_size=7, gamma=0.1)'s
 * step() after every batch, so its learning rate fell tenfold every 7 batches, to a millionth
 * of its start after 42 batches, and training stopped moving. Step per batch only with periods
 * counted in batches.
 *
 * Each group keeps its own base learning rate (the lr it had when the schedule was made) and the
 * schedule scales it, so a base fine-tuned at a tenth of the head's rate stays at a tenth.
 * Learning rates are closed-form functions of the epoch, so a resumed run lands on exactly the
 * values of an uninterrupted one.
 */

/** What a schedule needs from an optimizer: its groups' learning rates. */
export interface ScheduledOptimizer {
  paramGroups: { lr: number }[];
}

export interface SchedulerStateDict {
  last_epoch: number;
  base_lrs: number[];
}

/** The learning rate at `epoch` for a group whose base learning rate is `baseLr`. */
export type Schedule = (epoch: number, baseLr: number) => number;

export class LRScheduler {
  /** Epochs stepped so far (0 right after construction). */
  lastEpoch = 0;
  readonly baseLrs: number[];

  /** Sets every group's learning rate to the schedule's value at epoch 0. */
  constructor(
    readonly optimizer: ScheduledOptimizer,
    readonly lrAt: Schedule,
    baseLrs?: readonly number[],
  ) {
    this.baseLrs = baseLrs ? [...baseLrs] : optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }

  /** Advances one epoch and sets every group's learning rate. */
  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The learning rates the last step set, one per group. */
  getLastLr(): number[] {
    return this.baseLrs.map((base) => this.lrAt(this.lastEpoch, base));
  }

  stateDict(): SchedulerStateDict {
    return { last_epoch: this.lastEpoch, base_lrs: [...this.baseLrs] };
  }

  loadStateDict(dict: SchedulerStateDict): void {
    if (dict.base_lrs.length !== this.baseLrs.length) {
      throw new Error(`scheduler state has ${dict.base_lrs.length} base learning rates, the optimizer ${this.baseLrs.length} groups`);
    }
    this.baseLrs.splice(0, this.baseLrs.length, ...dict.base_lrs);
    this.lastEpoch = dict.last_epoch;
    this.apply();
  }

  private apply(): void {
    this.getLastLr().forEach((lr, g) => {
      this.optimizer.paramGroups[g]!.lr = lr;
    });
  }
}

/** lr = base·gamma^⌊epoch / stepSize⌋ (torch StepLR). */
export class StepLR extends LRScheduler {
  constructor(optimizer: ScheduledOptimizer, { stepSize, gamma = 0.1 }: { stepSize: number; gamma?: number }) {
    if (!(Number.isInteger(stepSize) && stepSize > 0)) throw new OptionRangeError(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    super(optimizer, (epoch, base) => base * gamma ** Math.floor(epoch / stepSize));
  }
}

/** lr = base·gamma^(milestones reached); a milestone listed twice counts twice (torch MultiStepLR). */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: ScheduledOptimizer, { milestones, gamma = 0.1 }: { milestones: readonly number[]; gamma?: number }) {
    const sorted = [...milestones];
    super(optimizer, (epoch, base) => base * gamma ** sorted.filter((m) => m <= epoch).length);
  }
}

/** lr = etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2, rising again past tMax (torch CosineAnnealingLR). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: ScheduledOptimizer, { tMax, etaMin = 0 }: { tMax: number; etaMin?: number }) {
    if (!(tMax > 0)) throw new OptionRangeError(`CosineAnnealingLR: tMax must be positive, got ${tMax}`);
    super(optimizer, (epoch, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2);
  }
}

/**
 * A linear warm-up in front of another schedule: for the first `warmupEpochs` epochs
 * lr = base·(startFactor + (1 − startFactor)·epoch/warmupEpochs), then the wrapped schedule from
 * its own epoch 0 (torch's SequentialLR of LinearLR and that schedule). Step only the wrapper.
 */
export class LinearWarmup extends LRScheduler {
  constructor(
    readonly after: LRScheduler,
    { warmupEpochs, startFactor = 0.1 }: { warmupEpochs: number; startFactor?: number },
  ) {
    if (!(Number.isInteger(warmupEpochs) && warmupEpochs >= 0)) {
      throw new OptionRangeError(`LinearWarmup: warmupEpochs must be a non-negative integer, got ${warmupEpochs}`);
    }
    const warmup: Schedule = (epoch, base) =>
      epoch >= warmupEpochs ? after.lrAt(epoch - warmupEpochs, base) : base * (startFactor + ((1 - startFactor) * epoch) / warmupEpochs);
    super(after.optimizer, warmup, after.baseLrs);
  }
}

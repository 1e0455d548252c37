/**
 * The transfer-learning recipe as data: a run is a list of phases, each saying which parameters
 * train, with which optimiser settings, for how many epochs.
 *
 *   transfer  - freeze the pretrained base, train a new head (phase 1 of the recipe),
 *   finetune  - everything (or the blocks from `unfreezeFrom` on) trains, at `lr` for `epochs`,
 *   both      - transfer, then finetune: the recipe, in the order that matters,
 *   scratch   - no pretrained weights assumed: everything trains from the start.
 */
export type PlanName = 'transfer' | 'finetune' | 'both' | 'scratch';

export type Trainable = { kind: 'head' } | { kind: 'all' } | { kind: 'from'; path: string };

export type SchedulerConfig =
  | { kind: 'none' }
  | { kind: 'step'; stepSize: number; gamma: number }
  | { kind: 'cosine'; minLr?: number };

export interface PhaseConfig {
  name: string;
  epochs: number;
  trainable: Trainable;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Stepped once per epoch (the study notebook stepped per batch, which collapsed its rate). */
  scheduler: SchedulerConfig;
}

export interface PlanOptions {
  epochs: number;
  /** Epochs of the fine-tuning phase in 'both' (default: `epochs`). */
  finetuneEpochs?: number;
  /** The first phase's rate (in 'finetune', its only phase). */
  lr: number;
  /** The rate of the fine-tuning phase in 'both' (default lr / 10). */
  finetuneLr?: number;
  momentum: number;
  weightDecay: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  scheduler: SchedulerConfig;
  /** Fine-tune only from this module path on (e.g. 'features.24'); default: everything. */
  unfreezeFrom?: string;
}

/** The study notebook's settings: SGD lr 0.001 momentum 0.9, StepLR(7, 0.1). */
export const NOTEBOOK_PLAN: PlanOptions = {
  epochs: 10,
  lr: 0.001,
  momentum: 0.9,
  weightDecay: 0,
  optimizer: 'sgd',
  scheduler: { kind: 'step', stepSize: 7, gamma: 0.1 },
};

export function planPhases(plan: PlanName, o: PlanOptions): PhaseConfig[] {
  const common = { optimizer: o.optimizer, momentum: o.momentum, weightDecay: o.weightDecay, scheduler: o.scheduler };
  const finetune: PhaseConfig = {
    ...common,
    name: 'finetune',
    epochs: o.finetuneEpochs ?? o.epochs,
    lr: o.finetuneLr ?? o.lr / 10,
    trainable: o.unfreezeFrom ? { kind: 'from', path: o.unfreezeFrom } : { kind: 'all' },
  };
  switch (plan) {
    case 'transfer':
      return [{ ...common, name: 'transfer', epochs: o.epochs, lr: o.lr, trainable: { kind: 'head' } }];
    case 'finetune':
      return [{ ...finetune, epochs: o.epochs, lr: o.lr }];
    case 'both':
      return [{ ...common, name: 'transfer', epochs: o.epochs, lr: o.lr, trainable: { kind: 'head' } }, finetune];
    case 'scratch':
      return [{ ...common, name: 'scratch', epochs: o.epochs, lr: o.lr, trainable: { kind: 'all' } }];
  }
}

export function isPlanName(name: string): name is PlanName {
  return ['transfer', 'finetune', 'both', 'scratch'].includes(name);
}

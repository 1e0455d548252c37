import type { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { Optimizer, OptimizerStateDict, BaseOptions } from '../optim/optimizer.js';
import { CosineAnnealingLR, LRScheduler, StepLR } from '../optim/schedulers.js';
import type { PhaseConfig } from './plan.js';

export type TrainOptimizer = Optimizer<BaseOptions> & { stateDict(): Promise<OptimizerStateDict> };
export type TrainScheduler = LRScheduler;

/**
 * The phase's optimiser over every parameter of the model: frozen ones are skipped by the
 * optimiser itself (no state, no update), so unfreezing later needs no new bookkeeping.
 */
export function createOptimizer(model: Module, phase: PhaseConfig): TrainOptimizer {
  const params = model.parameters();
  const { lr, momentum, weightDecay } = phase;
  switch (phase.optimizer) {
    case 'sgd':
      return new SGD(params, { lr, momentum, weightDecay }) as unknown as TrainOptimizer;
    case 'adam':
      return new Adam(params, { lr, weightDecay }) as unknown as TrainOptimizer;
    case 'adamw':
      return new AdamW(params, { lr, weightDecay }) as unknown as TrainOptimizer;
  }
}

/** The phase's learning-rate schedule, stepped once per epoch by the trainer. */
export function createScheduler(optimizer: TrainOptimizer, phase: PhaseConfig): TrainScheduler {
  const s = phase.scheduler;
  switch (s.kind) {
    case 'none':
      return new LRScheduler(optimizer, (_epoch, base) => base);
    case 'step':
      return new StepLR(optimizer, { stepSize: s.stepSize, gamma: s.gamma });
    case 'cosine':
      return new CosineAnnealingLR(optimizer, { tMax: phase.epochs, etaMin: s.minLr ?? 0 });
  }
}

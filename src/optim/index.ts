export { Optimizer, type BaseOptions, type ParamGroup, type ParamGroupSpec, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { LRScheduler, StepLR, MultiStepLR, CosineAnnealingLR, LinearWarmup, type Schedule, type ScheduledOptimizer, type SchedulerStateDict } from './schedulers.js';

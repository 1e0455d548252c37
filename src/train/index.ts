// The training loop and the recipe, browser-safe (checkpoints on disk: src/train/checkpoint-node.ts).
export { Trainer, freshPosition, NonFiniteLossError, StoppedError, type BatchSource, type TrainerData, type EpochRecord, type StepInfo, type TrainerHooks, type TrainerOptions, type TrainerPosition, type EvaluationResult } from './trainer.js';
export { frozenSplit, describeFeatureCache, DEFAULT_FEATURE_CACHE_BYTES, type FeatureCacheEvent, type FrozenSplit } from './feature-cache.js';
export { planPhases, isPlanName, NOTEBOOK_PLAN, type PlanName, type PlanOptions, type PhaseConfig, type Trainable, type SchedulerConfig } from './plan.js';
export { curvesSvg } from './curves.js';
export { EpochMetrics, ConfusionCounts } from './metrics.js';
export { createOptimizer, createScheduler } from './optimizer.js';
export { GradientMonitor, layerPath, type GradMonitorOptions, type GradFlowRecord, type LayerFlow, type ParamFlow } from './grad-monitor.js';
export { tuneModelKernels } from './tune-kernels.js';
export { describeTuning, type TunedLayer } from '../kernels/conv2d-tuning.js';
export { measuredChoices, restoreChoices, type TunedChoices } from '../kernels/conv2d-tile.js';
export { profileTrainStep, profileSummary, kernelTable, compareTable, chromeTrace, type StepProfile, type ProfileOptions, type TrainStepParts, type KernelRow, type RateOptions, gflopsColumn } from './profile.js';
export { layerCosts, layerTable, layerRows, compareLayerTable, compareLayerRows, LAYER_NUMERIC_COLUMNS, COMPARE_LAYER_NUMERIC_COLUMNS, type LayerCost, type LayerWork } from './profile-layers.js';
export { labelLayers } from './layer-labels.js';
export { measureCeilings, describeCeilings, shareOfCeiling, type Ceilings, type CeilingOptions } from '../kernels/ceiling.js';

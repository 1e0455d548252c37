// webgpu-transfer's browser-safe entry point: nothing here imports Node modules.
// Node users import 'webgpu-transfer/node', which adds Dawn, the file system and sharp.
export { GpuContext, setDefaultContext, getDefaultContext, type GpuContextOptions } from './runtime/context.js';
export { adapterLabel, type AdapterDescription } from './runtime/adapter.js';
export type { KernelTiming } from './runtime/profiler.js';
export { withDispatchLabel, dispatchLabel } from './runtime/dispatch-label.js';
export * from './runtime/errors.js';
export { Tensor, type DType, type MappedData } from './autograd/tensor.js';
export { noGrad, isGradEnabled } from './autograd/graph.js';
export { tidy, keep } from './autograd/scope.js';
export * from './ops/index.js';
export { initBrowser } from './runtime/browser-gpu.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './models/index.js';
export * as formats from './models/formats/index.js';
export * as data from './data/index.js';
export { Augmenter, NOTEBOOK_NORMALIZE, type AugmenterOptions, type TrainTransformOptions, type AugmentResult } from './data/augment/index.js';
export * from './train/index.js';

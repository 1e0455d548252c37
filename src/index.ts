// webgpu-transfer's browser-safe entry point: nothing here imports Node modules.
// Node users import 'webgpu-transfer/node', which adds Dawn, the file system and sharp.
export { GpuContext, setDefaultContext, getDefaultContext, type GpuContextOptions } from './runtime/context.js';
export { adapterLabel, type AdapterDescription } from './runtime/adapter.js';
export * from './runtime/errors.js';
export { Tensor, type DType } from './autograd/tensor.js';
export { noGrad, isGradEnabled } from './autograd/graph.js';
export { tidy, keep } from './autograd/scope.js';
export * from './ops/index.js';
export { initBrowser } from './runtime/browser-gpu.js';

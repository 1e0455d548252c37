// webgpu-transfer for Node: everything in the browser entry, plus Dawn as the WebGPU provider.
import { GpuContext, setDefaultContext, type GpuContextOptions } from './runtime/context.js';
import { createNodeGpu } from './runtime/node-gpu.js';

export * from './index.js';
export { createNodeGpu } from './runtime/node-gpu.js';
export { loadWeightsFile, saveSafetensors, savePth, inspectWeightsFile } from './models/node-weights.js';
export { openFileSource, openWeightsFile } from './models/formats/node-file-source.js';
export * as nodeData from './data/node.js';
export { saveCheckpoint, loadCheckpoint } from './train/checkpoint-node.js';
export { trainRun, type TrainRunOptions } from './train/run-node.js';
export { appendGradFlowLog, readGradFlowLog, writeGradFlowHeatMap } from './train/grad-monitor-node.js';

export interface NodeInitOptions extends GpuContextOptions {
  /** `lavapipe`, `swiftshader`, or a substring of the adapter name; defaults to WGT_ADAPTER. */
  adapter?: string;
}

/** WGT_KERNELS=cpu|gpu forces a family of kernel variants (GpuContextOptions.kernelTarget). */
function kernelTargetFromEnv(): GpuContextOptions['kernelTarget'] {
  const value = process.env.WGT_KERNELS;
  if (!value) return undefined;
  if (value === 'cpu' || value === 'gpu') return value;
  throw new Error(`WGT_KERNELS=${value}: expected 'cpu' or 'gpu'`);
}

/** WGT_CONV_TILE=CxPxK (C and P 64 or 128, K 16 or 32) forces the tiled conv2d kernels' tile (GpuContextOptions.convTile). */
function convTileFromEnv(): GpuContextOptions['convTile'] {
  const value = process.env.WGT_CONV_TILE;
  if (!value) return undefined;
  const match = /^(64|128)x(64|128)x(16|32)$/.exec(value);
  if (!match) throw new Error(`WGT_CONV_TILE=${value}: expected CxPxK with C and P each 64 or 128 and K 16 or 32, e.g. 64x64x32`);
  return { channels: Number(match[1]) as 64 | 128, pixels: Number(match[2]) as 64 | 128, depth: Number(match[3]) as 16 | 32 };
}

/** WGT_CONV_ORDER=blocks|plain: the tiled conv2d kernels' reduction order (GpuContextOptions.convOrder). */
function convOrderFromEnv(): GpuContextOptions['convOrder'] {
  const value = process.env.WGT_CONV_ORDER;
  if (!value) return undefined;
  if (value === 'blocks' || value === 'plain') return value;
  throw new Error(`WGT_CONV_ORDER=${value}: expected 'blocks' or 'plain'`);
}

/** WGT_CONV_ALGORITHM=direct|winograd|fastest: how 3x3 stride-1 convolutions are computed (GpuContextOptions.convAlgorithm). */
function convAlgorithmFromEnv(): GpuContextOptions['convAlgorithm'] {
  const value = process.env.WGT_CONV_ALGORITHM;
  if (!value) return undefined;
  if (value === 'direct' || value === 'winograd' || value === 'fastest') return value;
  throw new Error(`WGT_CONV_ALGORITHM=${value}: expected 'direct', 'winograd' or 'fastest'`);
}

/**
 * WGT_GPU_WAIT=sleep|poll: whether waits on the GPU sleep before Dawn's spinning poll
 * (GpuContextOptions.sleepBeforePoll); unset, they sleep on a software adapter only.
 */
function sleepBeforePollFromEnv(): GpuContextOptions['sleepBeforePoll'] {
  const value = process.env.WGT_GPU_WAIT;
  if (value === undefined) return 'software';
  if (value === 'sleep' || value === 'poll') return value === 'sleep';
  throw new Error(`WGT_GPU_WAIT=${value}: expected 'sleep' or 'poll'`);
}

/** WGT_MEMORY=plan|pool: tensors' buffers planned per submission, or the plain bucket pool (GpuContextOptions.memoryPlan). */
function memoryPlanFromEnv(): boolean {
  const value = process.env.WGT_MEMORY ?? 'plan';
  if (value === 'plan' || value === 'pool') return value === 'plan';
  throw new Error(`WGT_MEMORY=${value}: expected 'plan' or 'pool'`);
}

/** Creates the engine's context on Dawn and makes it the default. */
export async function initNode(options: NodeInitOptions = {}): Promise<GpuContext> {
  const gpu = await createNodeGpu(options.adapter);
  const fromEnv = { kernelTarget: kernelTargetFromEnv(), convTile: convTileFromEnv(), convOrder: convOrderFromEnv(), convAlgorithm: convAlgorithmFromEnv(), sleepBeforePoll: sleepBeforePollFromEnv(), memoryPlan: memoryPlanFromEnv() };
  const ctx = await GpuContext.create(gpu, { ...fromEnv, ...options });
  setDefaultContext(ctx);
  return ctx;
}

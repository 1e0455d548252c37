// webgpu-transfer for Node: everything in the browser entry, plus Dawn as the WebGPU provider.
import { GpuContext, setDefaultContext, type GpuContextOptions } from './runtime/context.js';
import type { AdapterDescription } from './runtime/adapter.js';
import { createNodeGpu, dawnFeaturesOff, waitFromEnv } from './runtime/node-gpu.js';

export * from './index.js';
export { createNodeGpu } from './runtime/node-gpu.js';
export { loadWeightsFile, saveSafetensors, savePth, inspectWeightsFile } from './models/node-weights.js';
export { openFileSource, openWeightsFile } from './models/formats/node-file-source.js';
export * as nodeData from './data/node.js';
export { saveCheckpoint, loadCheckpoint, type LoadedCheckpoint, type CheckpointMeta } from './train/checkpoint-node.js';
export { trainRun, weightsMetadata, type TrainRunControl, type TrainRunOptions, type TrainRunResult } from './train/run-node.js';
export { appendGradFlowLog, readGradFlowLog, writeGradFlowHeatMap } from './train/grad-monitor-node.js';
export { defaultTuningFile, loadTuning, saveTuning, tuningIdentity, type TuningIdentity } from './train/tuning-file-node.js';

export interface NodeInitOptions extends GpuContextOptions {
  /** `lavapipe`, `swiftshader`, or a substring of the adapter name; defaults to WGT_ADAPTER. */
  adapter?: string;
}

/** The value of environment variable `name`, one of `allowed`, or undefined when it is unset. */
function choiceFromEnv<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${name}=${value}: expected ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

/** WGT_CONV_TILE=CxPxK (C and P 64 or 128, K 16 or 32) forces the tiled conv2d kernels' tile (GpuContextOptions.convTile). */
function convTileFromEnv(): GpuContextOptions['convTile'] {
  const value = process.env.WGT_CONV_TILE;
  if (!value) return undefined;
  const match = /^(64|128)x(64|128)x(16|32)$/.exec(value);
  if (!match) throw new Error(`WGT_CONV_TILE=${value}: expected CxPxK with C and P each 64 or 128 and K 16 or 32, e.g. 64x64x32`);
  return { channels: Number(match[1]) as 64 | 128, pixels: Number(match[2]) as 64 | 128, depth: Number(match[3]) as 16 | 32 };
}

/** WGT_GPU_TIMEOUT=SECONDS as milliseconds; undefined when unset. */
function secondsFromEnv(name: string): number | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  const seconds = Number(value);
  if (!(seconds > 0 && Number.isFinite(seconds))) throw new Error(`${name}=${value}: expected a positive number of seconds`);
  return seconds * 1000;
}

/**
 * The context's options the environment sets, one variable each (the option in brackets):
 *   WGT_KERNELS=cpu|gpu              a family of kernel variants (kernelTarget)
 *   WGT_CONV_TILE=CxPxK              the tiled conv2d kernels' tile (convTile)
 *   WGT_CONV_ORDER=blocks|plain      the tiled conv2d kernels' reduction order (convOrder)
 *   WGT_CONV_ALGORITHM=direct|winograd|fastest   the 3x3 stride-1 convolutions' algorithm (convAlgorithm)
 *   WGT_GPU_WAIT=sleep|poll          sleep before Dawn's spinning poll; unset: on a software adapter only (sleepBeforePoll)
 *   WGT_MEMORY=plan|pool             buffers planned per submission, or the plain bucket pool (memoryPlan)
 *   WGT_SUBGROUPS=on|off             the CPU kernels share reads through subgroup broadcasts (subgroups)
 *   WGT_FILL_UNINITIALIZED=1         every new tensor filled with NaN, to catch reads of unwritten memory (fillUninitialized)
 *   WGT_GPU_TIMEOUT=SECONDS          a wait on the GPU longer than this fails: a hung driver or kernel (gpuTimeoutMs)
 */
const OPTIONS_FROM_ENV = {
  WGT_KERNELS: (name) => ({ kernelTarget: choiceFromEnv(name, ['cpu', 'gpu']) }),
  WGT_CONV_TILE: () => ({ convTile: convTileFromEnv() }),
  WGT_CONV_ORDER: (name) => ({ convOrder: choiceFromEnv(name, ['blocks', 'plain']) }),
  WGT_CONV_ALGORITHM: (name) => ({ convAlgorithm: choiceFromEnv(name, ['direct', 'winograd', 'fastest']) }),
  WGT_GPU_WAIT: () => ({ sleepBeforePoll: waitFromEnv() }),
  WGT_MEMORY: (name) => ({ memoryPlan: choiceFromEnv(name, ['plan', 'pool']) !== 'pool' }),
  WGT_SUBGROUPS: (name) => ({ subgroups: choiceFromEnv(name, ['on', 'off']) !== 'off' }),
  WGT_FILL_UNINITIALIZED: (name) => ({ fillUninitialized: choiceFromEnv(name, ['0', '1']) === '1' }),
  WGT_GPU_TIMEOUT: (name) => ({ gpuTimeoutMs: secondsFromEnv(name) }),
} satisfies Record<string, (name: string) => GpuContextOptions>;

function optionsFromEnv(): GpuContextOptions {
  return Object.assign({}, ...Object.entries(OPTIONS_FROM_ENV).map(([name, read]) => read(name)));
}

/**
 * The variables above (and WGT_ADAPTER) as set in this process, e.g. ['WGT_KERNELS=gpu'], and
 * given the context's adapter, the Dawn features turned off on it: what a report should name.
 */
export function engineEnvironment(adapter?: AdapterDescription): string[] {
  const names = ['WGT_ADAPTER', ...Object.keys(OPTIONS_FROM_ENV)];
  const variables = names.filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`);
  const off = adapter ? dawnFeaturesOff(adapter) : [];
  return off.length ? [...variables, `disable-dawn-features=${off.join(',')}`] : variables;
}

/** Creates the engine's context on Dawn and makes it the default. */
export async function initNode(options: NodeInitOptions = {}): Promise<GpuContext> {
  const gpu = await createNodeGpu(options.adapter);
  const ctx = await GpuContext.create(gpu, { ...optionsFromEnv(), ...options });
  setDefaultContext(ctx);
  return ctx;
}

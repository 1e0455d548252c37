// Node only: Dawn's binding (npm package `webgpu`). Browsers use navigator.gpu instead.
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { DRIVER_ZEROED_WORKGROUP_MEMORY } from './dawn-features.js';
import { WebGpuUnavailableError } from './errors.js';

/**
 * Which adapter Dawn should use, from `WGT_ADAPTER` (or the argument):
 *   - unset: the system's best adapter; if that is a software one and lavapipe is present,
 *     lavapipe (about 5-10x faster than SwiftShader here),
 *   - `lavapipe` / `swiftshader`: that software adapter,
 *   - anything else: a substring of the adapter's name (Dawn's `adapter=` toggle).
 */
export async function createNodeGpu(selection: string | undefined = process.env.WGT_ADAPTER): Promise<GPU> {
  Object.assign(globalThis, globals);
  const wanted = selection?.trim();
  if (wanted && /^swiftshader$/i.test(wanted)) useSwiftShaderIcd();
  if (wanted) return checkedGpu([`adapter=${adapterToggleName(wanted)}`], wanted);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const software = adapter?.info.architecture === 'software' || adapter?.info.architecture === 'swiftshader';
  if (adapter && software && !/llvmpipe/i.test(adapter.info.device)) {
    try {
      return await checkedGpu(['adapter=llvmpipe'], 'lavapipe');
    } catch {
      // No lavapipe: keep what the system offered.
    }
  }
  return adapter ? withFeaturesOff(gpu, [], adapter.info) : gpu;
}

/**
 * The Dawn features the engine turns off on this adapter (runtime/dawn-features.ts): on
 * SwiftShader, the driver's zeroing of workgroup memory. Reports name them beside the adapter.
 */
export function dawnFeaturesOff(adapter: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>): string[] {
  const names = `${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`;
  return /swiftshader/i.test(names) ? [DRIVER_ZEROED_WORKGROUP_MEMORY] : [];
}

/** `gpu`, or where its adapter wants Dawn features off, a Dawn made with them off. */
function withFeaturesOff(gpu: GPU, toggles: string[], adapter: GPUAdapterInfo): GPU {
  const off = dawnFeaturesOff(adapter);
  return off.length ? create([...toggles, `disable-dawn-features=${off.join(',')}`]) : gpu;
}

/** Debian's Chromium ships SwiftShader's Vulkan driver outside the loader's search path. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function useSwiftShaderIcd(): void {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

function adapterToggleName(selection: string): string {
  if (/^lavapipe$/i.test(selection)) return 'llvmpipe';
  if (/^swiftshader$/i.test(selection)) return 'SwiftShader';
  return selection;
}

/** Dawn with the adapter `wanted` (WGT_ADAPTER or the command's --adapter), or an error that lists those there are. */
async function checkedGpu(toggles: string[], wanted: string): Promise<GPU> {
  const gpu = create(toggles);
  let why = 'no such adapter';
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter) return withFeaturesOff(gpu, toggles, adapter.info);
  } catch (error) {
    why = (error as Error).message.split('\n').join(' ').replace(/\s+/g, ' ');
  }
  throw new WebGpuUnavailableError(`adapter '${wanted}' (WGT_ADAPTER or --adapter): ${why}. ${ADAPTER_CHOICE_HELP}`);
}

const ADAPTER_CHOICE_HELP = "Choose lavapipe, swiftshader or part of an adapter's name; unset, the system's best is used.";

/**
 * WGT_GPU_WAIT=sleep|poll: whether waits on the GPU sleep before Dawn's spinning poll
 * (GpuContextOptions.sleepBeforePoll); unset, 'software': they sleep on a software adapter only.
 */
export function waitFromEnv(): boolean | 'software' {
  const value = process.env.WGT_GPU_WAIT;
  if (!value) return 'software';
  if (value === 'sleep' || value === 'poll') return value === 'sleep';
  throw new Error(`WGT_GPU_WAIT=${value}: expected 'sleep', 'poll'`);
}

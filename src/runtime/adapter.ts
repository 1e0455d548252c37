import { SOFTWARE_ADAPTER_HELP, WebGpuUnavailableError } from './errors.js';

/** What a reader needs to know about where a number came from. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe, SwiftShader, WARP...): figures from it say little about GPUs. */
  isSoftware: boolean;
  features: string[];
  limits: Record<string, number>;
  /** The sizes its subgroups may have (lanes that run together), where the adapter reports them. */
  subgroupSizes?: { min: number; max: number };
}

/** Optional features the engine uses where the adapter has them. */
export const USEFUL_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'] as const;

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|basic render|warp/i;

export async function requestAdapter(gpu: GPU | undefined, powerPreference: GPUPowerPreference = 'high-performance'): Promise<GPUAdapter> {
  if (!gpu) throw new WebGpuUnavailableError(`WebGPU is not available in this runtime (no navigator.gpu). ${SOFTWARE_ADAPTER_HELP}`);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference });
  } catch (error) {
    throw new WebGpuUnavailableError(`requestAdapter() failed: ${(error as Error).message}. ${SOFTWARE_ADAPTER_HELP}`);
  }
  if (!adapter) throw new WebGpuUnavailableError(`No WebGPU adapter was found (requestAdapter() returned null). ${SOFTWARE_ADAPTER_HELP}`);
  if (isNullBackend(adapter.info)) {
    throw new WebGpuUnavailableError(`Refusing Dawn's 'null' backend: it accepts work and computes nothing. ${SOFTWARE_ADAPTER_HELP}`);
  }
  return adapter;
}

function isNullBackend(info: GPUAdapterInfo): boolean {
  return /null/i.test(info.device) && !info.vendor && !info.architecture;
}

export async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredFeatures = USEFUL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  // Ask for everything the adapter offers: the defaults (128 MiB bindings, 8 storage buffers) are
  // far below what large layers need on most GPUs.
  const requiredLimits: Record<string, number> = {};
  for (const name of limitNames(adapter.limits)) requiredLimits[name] = (adapter.limits as unknown as Record<string, number>)[name]!;
  return adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'webgpu-transfer' }); // its loss: device-watch.ts
}

export function describeAdapter(adapter: GPUAdapter, device: GPUDevice): AdapterDescription {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of limitNames(device.limits)) limits[name] = (device.limits as unknown as Record<string, number>)[name]!;
  const names = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: fallback || SOFTWARE_NAMES.test(names),
    features: [...device.features].sort(),
    limits,
    ...(info.subgroupMinSize && info.subgroupMaxSize ? { subgroupSizes: { min: info.subgroupMinSize, max: info.subgroupMaxSize } } : {}),
  };
}

/** One line naming the adapter, printed beside every figure and test run. */
export function adapterLabel(d: AdapterDescription): string {
  // Browsers may leave the name fields empty (Chromium does for SwiftShader).
  const name = d.description || d.device || [d.vendor, d.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name} [${d.vendor || '?'}/${d.architecture || '?'}]${d.isSoftware ? ' (software adapter)' : ''}`;
}

function limitNames(limits: GPUSupportedLimits): string[] {
  const names: string[] = [];
  for (let proto = limits; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key !== 'constructor' && typeof (limits as unknown as Record<string, unknown>)[key] === 'number') names.push(key);
    }
  }
  return [...new Set(names)].sort();
}

/**
 * One place that creates Dawn's GPU object for Node (npm package `webgpu`), so
 * that our engine and tfjs-backend-webgpu can run on the same adapter in one
 * process. Small and self-contained on purpose: the engine's runtime
 * (src/runtime/) has its own adapter selection and may replace this later.
 *
 * Adapter selection, from the env var WGT_ADAPTER (read once, at the first
 * getNodeGpu() call):
 *   - unset                : Dawn's default (whatever Vulkan ICDs the loader finds;
 *                            an explicit VK_ICD_FILENAMES from the caller is kept).
 *   - `lavapipe`           : VK_ICD_FILENAMES = Mesa's lvp_icd manifest, toggle adapter=llvmpipe.
 *   - `swiftshader`        : VK_ICD_FILENAMES = Chromium's SwiftShader manifest, toggle adapter=SwiftShader.
 *   - any other string     : Dawn toggle `adapter=<string>` (substring of the adapter name);
 *                            the SwiftShader manifest is added to the ICD list when the
 *                            string names it, so it is visible at all.
 * Measured on this machine: both setting VK_ICD_FILENAMES in-process before
 * create() and the `adapter=` toggle work; with only the default ICD directory,
 * SwiftShader is invisible (it lives under /usr/lib/chromium), and a toggle
 * naming an adapter that is not visible makes requestAdapter() throw
 * "no suitable backends found".
 * The Vulkan loader reads VK_ICD_FILENAMES when Dawn's instance is created, so
 * it must be set before the first create(); this module creates one GPU object
 * per process and caches it.
 */
import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';

const LAVAPIPE_ICDS = [
  '/usr/share/vulkan/icd.d/lvp_icd.json',
  '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
  '/etc/vulkan/icd.d/lvp_icd.json',
];
const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json'];

export interface AdapterSelection {
  /** WGT_ADAPTER as given (undefined: Dawn's default). */
  requested: string | undefined;
  /** VK_ICD_FILENAMES set by this module (undefined: left alone). */
  icdFiles: string | undefined;
  /** Dawn toggles passed to create(). */
  toggles: string[];
}

/** Works out env + toggles for a WGT_ADAPTER value without touching the process. */
export function resolveAdapterSelection(requested: string | undefined = process.env.WGT_ADAPTER): AdapterSelection {
  const r = requested?.trim() || undefined;
  if (r === undefined) return { requested: undefined, icdFiles: undefined, toggles: [] };
  const lower = r.toLowerCase();
  const firstExisting = (paths: string[]): string | undefined => paths.find((p) => existsSync(p));
  if (lower === 'lavapipe' || lower === 'llvmpipe' || lower === 'lvp') {
    const icd = firstExisting(LAVAPIPE_ICDS);
    if (!icd) throw new Error(`WGT_ADAPTER=${r}: no lavapipe ICD manifest found (looked at ${LAVAPIPE_ICDS.join(', ')})`);
    return { requested: r, icdFiles: icd, toggles: ['adapter=llvmpipe'] };
  }
  if (lower === 'swiftshader') {
    const icd = firstExisting(SWIFTSHADER_ICDS);
    if (!icd) throw new Error(`WGT_ADAPTER=${r}: no SwiftShader ICD manifest found (looked at ${SWIFTSHADER_ICDS.join(', ')})`);
    return { requested: r, icdFiles: icd, toggles: ['adapter=SwiftShader'] };
  }
  // A substring of the adapter name. Make SwiftShader visible if that is what is named.
  let icdFiles: string | undefined;
  if (lower.includes('swiftshader')) {
    const extra = [firstExisting(SWIFTSHADER_ICDS), firstExisting(LAVAPIPE_ICDS)].filter((x): x is string => !!x);
    icdFiles = extra.join(':') || undefined;
  }
  return { requested: r, icdFiles, toggles: [`adapter=${r}`] };
}

let cached: { gpu: GPU; selection: AdapterSelection } | undefined;

/** The process-wide Dawn GPU object (created on first call, honouring WGT_ADAPTER). */
export function getNodeGpu(): GPU {
  return getNodeGpuWithSelection().gpu;
}

export function getNodeGpuWithSelection(): { gpu: GPU; selection: AdapterSelection } {
  if (cached) return cached;
  const selection = resolveAdapterSelection();
  if (selection.icdFiles !== undefined) process.env.VK_ICD_FILENAMES = selection.icdFiles;
  // Mesa warns about XDG_RUNTIME_DIR otherwise; harmless, but noisy.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  // GPUBufferUsage, GPUMapMode, ... as globals (tfjs and WebGPU code use them).
  Object.assign(globalThis, globals);
  cached = { gpu: create(selection.toggles), selection };
  return cached;
}

/**
 * Sets `globalThis.navigator.gpu` (tfjs-backend-webgpu checks it at import time):
 * call before importing @tensorflow/tfjs-backend-webgpu.
 */
export function installNavigatorGpu(gpu: GPU = getNodeGpu()): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator && typeof g.navigator === 'object') {
    try {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
      if (g.navigator.gpu === gpu) return;
    } catch {
      /* fall through: replace navigator */
    }
  }
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/**
 * Requests the adapter for this process and checks it is a real one
 * (Dawn's `backend=null` adapter computes nothing).
 */
export async function requestNodeAdapter(options: GPURequestAdapterOptions = {}): Promise<GPUAdapter> {
  const { gpu, selection } = getNodeGpuWithSelection();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', ...options });
  } catch (e) {
    throw new Error(`requestAdapter failed (WGT_ADAPTER=${selection.requested ?? '<unset>'}): ${(e as Error).message}`);
  }
  if (!adapter) throw new Error(`no WebGPU adapter (WGT_ADAPTER=${selection.requested ?? '<unset>'}); is a Vulkan driver installed?`);
  const info = adapter.info;
  if (/null-backend/i.test(info.device) || (!info.vendor && !info.description && /null/i.test(info.device))) {
    throw new Error(`refusing Dawn's null adapter (${info.description})`);
  }
  return adapter;
}

/**
 * A device with every limit the adapter offers (never assume 1 GiB bindings:
 * lavapipe offers 128 MiB) and the given optional features where available.
 */
export async function requestNodeDevice(
  adapter: GPUAdapter,
  wantFeatures: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'],
): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const k of limitNames(adapter.limits)) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const requiredFeatures = wantFeatures.filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ requiredLimits, requiredFeatures });
}

/** Enumerates the numeric members of a GPUSupportedLimits (WebIDL attributes live on the prototype). */
export function limitNames(limits: GPUSupportedLimits): string[] {
  const names = new Set<string>();
  for (const k in limits) names.add(k);
  let proto: object | null = Object.getPrototypeOf(limits);
  while (proto && proto !== Object.prototype) {
    for (const k of Object.getOwnPropertyNames(proto)) if (k !== 'constructor') names.add(k);
    proto = Object.getPrototypeOf(proto);
  }
  return [...names].filter((k) => typeof (limits as unknown as Record<string, unknown>)[k] === 'number').sort();
}

/** Short slug for file names: lavapipe | swiftshader | <vendor-device>. */
export function adapterSlug(info: GPUAdapterInfo): string {
  const s = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  if (s.includes('llvmpipe')) return 'lavapipe';
  if (s.includes('swiftshader')) return 'swiftshader';
  return `${info.vendor}-${info.device || info.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'unknown';
}

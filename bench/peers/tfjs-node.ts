/**
 * The tfjs peer started on Dawn in Node (tfjs.ts is the peer itself, browser-safe): tfjs finds
 * the `navigator.gpu` this installs, so WGT_ADAPTER picks its adapter as it picks ours.
 */
import { getNodeGpuWithSelection, installNavigatorGpu, requestNodeAdapter } from '../util/node-gpu.js';
import { waitFromEnv } from '../../src/runtime/node-gpu.js';
import { peerOnCurrentBackend, type Tf, type TfjsPeer } from './tfjs.js';

/**
 * Imports tfjs + tfjs-backend-webgpu on Dawn and makes 'webgpu' the backend.
 *  - no options: stock tfjs: its own factory picks the adapter through
 *    `navigator.gpu` (= bench/util/node-gpu.ts's GPU object, so WGT_ADAPTER holds)
 *    and creates its own device;
 *  - `adapter`: tfjs gets its own device on that adapter (same requests as stock tfjs);
 *  - `device` (+ its `adapter`): tfjs runs on that very device (shared queue; a
 *    sync then also waits for the engine's work).
 */
export async function initTfjsWebGPU(opts: { adapter?: GPUAdapter; device?: GPUDevice } = {}): Promise<TfjsPeer> {
  const { gpu, selection } = getNodeGpuWithSelection();
  installNavigatorGpu(gpu); // tfjs-backend-webgpu checks navigator.gpu when imported
  const tf: Tf = await import('@tensorflow/tfjs');
  const wg = await import('@tensorflow/tfjs-backend-webgpu');
  let adapter: GPUAdapter;
  if (opts.device || opts.adapter) {
    adapter = opts.adapter ?? (await requestNodeAdapter());
    const device = opts.device ?? (await requestTfjsLikeDevice(adapter));
    tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new wg.WebGPUBackend(device, adapter.info as never), 3);
  } else {
    // Same GPU object and options as tfjs's factory, so the same adapter: used only to describe it.
    adapter = await requestNodeAdapter();
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
  await tf.ready();
  return peerOnCurrentBackend(tf, adapter, { sleepBeforePoll: waitFromEnv(), requestedAdapter: selection.requested });
}

/** The device tfjs 4.22's own factory would request on `adapter`. */
export async function requestTfjsLikeDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const l = adapter.limits;
  const requiredFeatures = (['timestamp-query', 'bgra8unorm-storage'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  return adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
}

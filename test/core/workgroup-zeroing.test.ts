// WebGPU promises zeroed workgroup memory. On SwiftShader the engine has Dawn write the zeros
// itself instead of the Vulkan driver (runtime/dawn-features.ts): the promise must still hold.
import { expect, it } from 'vitest';
import { DRIVER_ZEROED_WORKGROUP_MEMORY } from '../../src/runtime/dawn-features.js';
import { createNodeGpu, dawnFeaturesOff } from '../../src/runtime/node-gpu.js';

// The blocked convolution's 16 KB weight cache. Each workgroup reads it before writing, then
// leaves sevens in it for whichever workgroup the driver gives that memory next: without the
// zeroing, later workgroups read sevens (checked with Dawn's zeroing turned off).
const PROBE = /* wgsl */ `
var<workgroup> cache: array<vec4<f32>, 1024>;
@group(0) @binding(0) var<storage, read_write> seen: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  var largest = 0.0;
  for (var i = t; i < 1024u; i += 64u) { largest = max(largest, max(max(cache[i].x, cache[i].y), max(cache[i].z, cache[i].w))); }
  seen[wg.x * 64u + t] = largest;
  workgroupBarrier();
  for (var i = t; i < 1024u; i += 64u) { cache[i] = vec4(7.0); }
}`;
const WORKGROUPS = 64;

// SwiftShader only: the other adapters keep Dawn's default (and a process keeps the Vulkan
// driver it started with, so lavapipe could not follow here).
it('workgroup memory starts zeroed on SwiftShader, in every workgroup of a dispatch', async () => {
  const adapter = await (await createNodeGpu('swiftshader')).requestAdapter();
  expect(dawnFeaturesOff(adapter!.info)).toEqual([DRIVER_ZEROED_WORKGROUP_MEMORY]);
  const device = await adapter!.requestDevice();
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: PROBE }), entryPoint: 'main' } });
  const bytes = WORKGROUPS * 64 * 4;
  const seen = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: seen } }] }));
  pass.dispatchWorkgroups(WORKGROUPS);
  pass.end();
  encoder.copyBufferToBuffer(seen, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const values = Array.from(new Float32Array(readback.getMappedRange()));
  device.destroy();
  expect(values.length).toBe(WORKGROUPS * 64);
  expect(Math.max(...values)).toBe(0);
});

it('turns the driver\'s zeroing off on SwiftShader alone, in Node and in Chromium (whose adapter gives no names)', () => {
  const info = (vendor: string, architecture: string, device = '', description = '') => ({ vendor, architecture, device, description });
  expect(dawnFeaturesOff(info('google', 'swiftshader'))).toEqual([DRIVER_ZEROED_WORKGROUP_MEMORY]);
  expect(dawnFeaturesOff(info('mesa', '', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'Mesa 25.0.7'))).toEqual([]);
  expect(dawnFeaturesOff(info('nvidia', 'hopper', 'NVIDIA H200', 'NVIDIA: 580.159.04'))).toEqual([]);
});

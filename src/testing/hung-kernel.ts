/**
 * Submits a kernel that never ends to `device`: it spins on a flag nothing sets, as a hung driver
 * or an endless shader loop would. Self-contained (no imports, no closures): EnginePage.hangGpu
 * runs its source in the page, and the Node tests call it directly.
 */
export function submitHungKernel(device: GPUDevice): void {
  const module = device.createShaderModule({
    code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> flag: array<atomic<u32>>;
@compute @workgroup_size(1) fn main() {
  // Nothing ever sets the flag: the loop spins until the device or the process ends.
  loop { if (atomicLoad(&flag[0]) != 0u) { break; } }
  atomicStore(&flag[1], 1u);
}`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const flag = device.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: flag } }] }));
  pass.dispatchWorkgroups(1);
  pass.end();
  device.queue.submit([encoder.finish()]);
}

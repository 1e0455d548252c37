// Run as its own process by test/core/device-watch.test.ts: submits a kernel that never ends,
// then waits on it through the engine with WGT_GPU_TIMEOUT set. A hung queue cannot be shared
// with other tests: nothing ends it but the end of the process.
import { initNode } from '../../src/node.js';

const ctx = await initNode();
const device = ctx.device;
const module = device.createShaderModule({
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> flag: array<atomic<u32>>;
@compute @workgroup_size(1) fn main() {
  // Nothing ever sets the flag: the loop spins until the process ends.
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

const start = performance.now();
try {
  await ctx.recorder.sync();
  console.log('the wait returned');
} catch (error) {
  console.log(`${(error as Error).name} after ${Math.round(performance.now() - start)} ms: ${(error as Error).message}`);
}
try {
  ctx.recorder.flush();
} catch (error) {
  console.log(`then a submit: ${(error as Error).name}`);
}
ctx.destroy(); // must not wait for the hung queue
console.log('destroy returned');
process.exit(0); // as the command line does after a GpuTimeoutError: Dawn would poll the hung queue for ever

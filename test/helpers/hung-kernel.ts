// Run as its own process by test/core/device-watch.test.ts: submits a kernel that never ends,
// then waits on it through the engine with WGT_GPU_TIMEOUT set. A hung queue cannot be shared
// with other tests: nothing ends it but the end of the process.
import { initNode } from '../../src/node.js';
import { submitHungKernel } from '../../src/testing/hung-kernel.js';

const ctx = await initNode();
submitHungKernel(ctx.device);

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

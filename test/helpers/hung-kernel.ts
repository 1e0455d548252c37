// Run as its own process by test/core/device-watch.test.ts: submits a kernel that never ends,
// then waits on it through the engine with WGT_GPU_TIMEOUT set. A hung queue cannot be shared
// with other tests: nothing ends it but the end of the process.
import { initNode } from '../../src/node.js';
import { submitHungKernel } from '../../src/testing/hung-kernel.js';
import { Tensor } from '../../src/autograd/tensor.js';

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

// A new device works beside the hung one, and its waits keep the process alive until they end.
const fresh = await initNode();
const values = await Tensor.fromData(fresh, [1, 2, 3, 4], [4], 'float32').read();
console.log(`a new context read [${values.join(', ')}]`);
fresh.destroy();
const stillPolling = setTimeout(() => console.log('alive 10 s later'), 10_000);
stillPolling.unref(); // prints only if something else holds the process
// No process.exit: Dawn still polls the hung queue, and the process must end all the same.

import { initNode, adapterLabel, type GpuContext } from '../../src/node.js';

let shared: Promise<GpuContext> | null = null;

/** One GPU context for a test file, on the adapter WGT_ADAPTER selects; prints which adapter ran. */
export function testContext(): Promise<GpuContext> {
  shared ??= initNode().then((ctx) => {
    console.log(`[webgpu-transfer tests] adapter: ${adapterLabel(ctx.adapter)}`);
    return ctx;
  });
  return shared;
}

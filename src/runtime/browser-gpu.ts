import { GpuContext, setDefaultContext, type GpuContextOptions } from './context.js';

/** Creates the engine's context from the page's `navigator.gpu` and makes it the default. */
export async function initBrowser(options: GpuContextOptions = {}): Promise<GpuContext> {
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  const ctx = await GpuContext.create(gpu, options);
  setDefaultContext(ctx);
  return ctx;
}

// What the engine page (serve.ts) puts on `window`, typed for page.evaluate() callbacks.
import type * as Engine from '../index.js';
import type { AdapterDescription } from '../index.js';

export type EngineReady = { ok: true; adapter: AdapterDescription; label: string } | { ok: false; error: string };

declare global {
  interface Window {
    /** Everything `webgpu-transfer` exports, with its default context already made by initBrowser(). */
    webgpuTransfer: typeof Engine;
    webgpuTransferReady: Promise<EngineReady>;
  }
}

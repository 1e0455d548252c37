// Starting WebGPU in the page, and showing what came of it: the adapter, or why there is none.
import { adapterLabel, initBrowser, WebGpuUnavailableError, type AdapterDescription, type GpuContext } from '../../src/index.js';
import { el } from './dom.js';

export interface NoWebGpu {
  /** `no-api`: the browser has no navigator.gpu; `no-adapter`: it has, but offers no adapter. */
  cause: 'no-api' | 'no-adapter';
  detail: string;
}

export type WebGpuStart = { ok: true; ctx: GpuContext } | { ok: false; reason: NoWebGpu };

/** initBrowser(), with "no WebGPU here" as a result rather than an error; other errors propagate. */
export async function startWebGpu(): Promise<WebGpuStart> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    return { ok: false, reason: { cause: 'no-api', detail: 'navigator.gpu is undefined' } };
  }
  try {
    return { ok: true, ctx: await initBrowser() };
  } catch (error) {
    if (!(error instanceof WebGpuUnavailableError)) throw error;
    return { ok: false, reason: { cause: 'no-adapter', detail: error.message } };
  }
}

/** What a page tells its driver once WebGPU has started, or has been found missing. */
export type ReadyState = { ok: true; adapter: AdapterDescription } | { ok: false; error: string };

/**
 * Shows in `panel` what came of starting WebGPU: the adapter, why there is none, or why starting
 * failed (a device refused, an unexpected error); the body's data-state says which (ready,
 * no-webgpu, error).
 */
export function showWebGpuStart(panel: HTMLElement, started: Promise<WebGpuStart>): Promise<ReadyState> {
  return started
    .then((start): ReadyState => {
      if (!start.ok) {
        renderNoWebGpu(panel, start.reason);
        document.body.dataset.state = 'no-webgpu';
        return { ok: false, error: start.reason.detail };
      }
      renderAdapter(panel, start.ctx.adapter);
      document.body.dataset.state = 'ready';
      return { ok: true, adapter: start.ctx.adapter };
    })
    .catch((error: unknown): ReadyState => {
      const message = error instanceof Error ? error.message : String(error);
      panel.textContent = `Starting WebGPU failed: ${message}`;
      document.body.dataset.state = 'error';
      return { ok: false, error: message };
    });
}

const KEY_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'];

export function renderAdapter(panel: HTMLElement, adapter: AdapterDescription): void {
  panel.replaceChildren(el('h2', 'Adapter'), el('p', adapterLabel(adapter), 'adapter-label'));
  if (adapter.isSoftware) {
    panel.append(
      el(
        'p',
        'This is a software adapter: WebGPU is running on the CPU. Its timings say nothing about how fast any GPU is; ' +
          'only use it to check that things work.',
        'warning',
      ),
    );
  }
  const facts = el('dl');
  const add = (term: string, value: string) => facts.append(el('dt', term), el('dd', value));
  add('vendor / architecture', `${adapter.vendor || '?'} / ${adapter.architecture || '?'}`);
  add('features', adapter.features.join(', ') || 'none');
  for (const name of KEY_LIMITS) add(name, (adapter.limits[name] ?? 0).toLocaleString('en'));
  panel.append(facts);
}

export function renderNoWebGpu(panel: HTMLElement, reason: NoWebGpu): void {
  const help =
    reason.cause === 'no-api'
      ? 'This browser does not offer WebGPU (navigator.gpu is missing). Use a browser with WebGPU, such as a recent Chrome or Edge, ' +
        'and open the page over https:// or http://localhost (WebGPU needs a secure context).'
      : 'This browser has WebGPU but offered no adapter. On Linux, Chromium needs --enable-unsafe-webgpu (or chrome://flags/#enable-unsafe-webgpu); ' +
        'the GPU may also be blocklisted.';
  // The engine's own message is written for Node users (how to install an adapter there): kept, folded.
  const detail = el('details', '', 'detail');
  detail.append(el('summary', "The engine's message"), el('p', reason.detail));
  panel.replaceChildren(el('h2', 'No WebGPU in this browser', 'no-webgpu'), el('p', help), detail);
  panel.dataset.cause = reason.cause;
}

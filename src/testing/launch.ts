// Node only: one call from nothing to a Chromium page with the engine loaded and WebGPU started.
import type { Browser, Page } from 'puppeteer-core';
import type { AdapterDescription } from '../index.js';
import { WebGpuUnavailableError } from '../runtime/errors.js';
import { launchChromium, type ChromiumOptions, type LaunchedChromium } from './chromium.js';
import type { EngineReady } from './page-globals.js';
import { serveEngine, type EngineServerOptions } from './serve.js';
import { submitHungKernel } from './hung-kernel.js';

export interface EnginePage {
  page: Page;
  browser: Browser;
  /** The adapter the page got; `adapter.isSoftware` flags CPU adapters (SwiftShader, WARP...). */
  adapter: AdapterDescription;
  /** One line naming the adapter, for test logs: `... [google/swiftshader] (software adapter)`. */
  adapterLabel: string;
  url: string;
  /** Errors the page threw or logged with console.error since it opened. */
  pageErrors: string[];
  /**
   * Crashes the browser's GPU process, as a driver reset would (DevTools' Browser.crashGpuProcess):
   * the page's device is lost, and Chromium starts a new GPU process for the next one. To test a
   * suite's own failure path.
   */
  crashGpuProcess(): Promise<void>;
  /**
   * Submits a kernel that never ends on the page's default context, as a hung driver would look:
   * with `context: { gpuTimeoutMs }` the page's next wait throws GpuTimeoutError; without a limit
   * it never returns. To test a suite's own timeout path. The kernel keeps a core of the
   * browser's GPU process busy until the browser closes.
   */
  hangGpu(): Promise<void>;
  close(): Promise<void>;
}

export type EnginePageOptions = ChromiumOptions & EngineServerOptions;

/**
 * Serves the engine page, launches Chromium on it and waits for WebGPU. Throws
 * WebGpuUnavailableError, with the browser's reason, when the page gets no adapter: a suite that
 * needs WebGPU fails loudly rather than skipping.
 */
export async function launchEnginePage(options: EnginePageOptions = {}): Promise<EnginePage> {
  const server = await serveEngine(options);
  let chromium: LaunchedChromium | undefined;
  const closeAll = async () => {
    await chromium?.close();
    await server.close();
  };
  try {
    chromium = await launchChromium(options);
    const page = await chromium.browser.newPage();
    const pageErrors = collectPageErrors(page);
    await page.goto(server.url);
    const ready: EngineReady = await page.evaluate(() => window.webgpuTransferReady);
    if (!ready.ok) throw new WebGpuUnavailableError(`the engine page got no WebGPU adapter: ${ready.error}${pageErrors.length ? `\npage errors:\n${pageErrors.join('\n')}` : ''}`);
    const browser = chromium.browser;
    const crashGpuProcess = async () => {
      const session = await browser.target().createCDPSession();
      await session.send('Browser.crashGpuProcess');
      await session.detach();
    };
    const hangGpu = async () => {
      await page.evaluate(`(${submitHungKernel})(window.webgpuTransfer.getDefaultContext().device)`);
    };
    return { page, browser, adapter: ready.adapter, adapterLabel: ready.label, url: server.url, pageErrors, crashGpuProcess, hangGpu, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Collects uncaught page errors and console.error lines, to put in failure messages. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  return errors;
}


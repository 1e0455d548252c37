// Serving web/ to Chromium for the browser suite: vite's dev server (the pages compiled on
// request from src/ and test/shared/) or a preview of the static build.
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { build, createServer, preview } from 'vite';
import { collectPageErrors } from '../../src/testing/index.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const configFile = fileURLToPath(new URL('../../vite.config.ts', import.meta.url));

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

const server = { host: '127.0.0.1', port: 0, strictPort: true };

export async function startDevServer(): Promise<WebServer> {
  // No hot reload: an edit elsewhere in the working tree must not reload a page in the middle of a test.
  const dev = await createServer({ configFile, mode: 'development', server: { ...server, hmr: false }, logLevel: 'warn', clearScreen: false });
  await dev.listen();
  const { port } = dev.httpServer!.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => dev.close() };
}

/** Builds web/ statically (dist-web/demo/) and serves that build. */
export async function startPreviewOfBuild(): Promise<WebServer> {
  await build({ configFile, mode: 'demo', logLevel: 'warn' });
  const served = await preview({ configFile, mode: 'demo', preview: server, logLevel: 'warn' });
  const { port } = served.httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => served.close() };
}

export interface OpenedPage {
  page: Page;
  /** Uncaught errors and console.error lines, for failure messages. */
  errors: string[];
}

export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await page.goto(url);
  return { page, errors };
}

/** The page's errors as a suffix for a failure message. */
export const withPageErrors = (message: string, errors: readonly string[]) =>
  errors.length ? `${message}\npage errors:\n${errors.join('\n')}` : message;

// Node only: launching Chromium with WebGPU for tests, through puppeteer-core (an optional peer
// dependency, loaded only when a browser is launched).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { DRIVER_ZEROED_WORKGROUP_MEMORY } from '../runtime/dawn-features.js';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumOptions {
  /** Defaults to WGT_CHROMIUM, then /usr/bin/chromium (Debian's `chromium` package). */
  chromiumPath?: string;
  /** Full headless mode (`--headless=new`, not the headless shell); default true. */
  headless?: boolean;
  /** Pass `--enable-unsafe-webgpu` (default true). Without it, Chromium on Linux offers no adapter. */
  webgpu?: boolean;
  /** More command-line flags, appended after the ones below. */
  extraArgs?: readonly string[];
}

/**
 * The flags a test browser needs on a machine like this one: WebGPU on, no sandbox (tests often
 * run as root), and nothing that reaches the network on its own. With WebGPU, Dawn zeroes
 * workgroup memory itself rather than through the Vulkan driver: on SwiftShader, Chromium's
 * adapter without a GPU, that makes a kernel with 16 KB of workgroup memory compile in 0.2 s
 * instead of 1.9 s (runtime/dawn-features.ts).
 */
export function chromiumArgs(options: Pick<ChromiumOptions, 'headless' | 'webgpu' | 'extraArgs'> = {}): string[] {
  return [
    ...(options.webgpu === false ? [] : ['--enable-unsafe-webgpu', `--disable-dawn-features=${DRIVER_ZEROED_WORKGROUP_MEMORY}`]),
    ...(options.headless === false ? [] : ['--headless=new']),
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    ...(options.extraArgs ?? []),
  ];
}

export interface LaunchedChromium {
  browser: Browser;
  /** Closes the browser and removes its fresh profile directory. */
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile; throws (never skips) when it is not installed. */
export async function launchChromium(options: ChromiumOptions = {}): Promise<LaunchedChromium> {
  const executablePath = options.chromiumPath ?? process.env.WGT_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it (Debian: apt-get install chromium, or ` +
        '`bash scripts/setup-system.sh`) or point WGT_CHROMIUM at a Chromium or Chrome binary.',
    );
  }
  const launch = await importPuppeteerLaunch();
  const userDataDir = await mkdtemp(join(tmpdir(), 'wgt-chromium-'));
  let browser: Browser;
  try {
    browser = await launch({
      executablePath,
      // The headless flag is ours (chromiumArgs) so every launch uses the same, full headless mode.
      headless: false,
      userDataDir,
      args: chromiumArgs(options),
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(`Chromium at ${executablePath} did not start: ${(error as Error).message}`);
  }
  return {
    browser,
    async close() {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

async function importPuppeteerLaunch(): Promise<typeof import('puppeteer-core').launch> {
  try {
    return (await import('puppeteer-core')).launch;
  } catch {
    throw new Error('webgpu-transfer/testing launches Chromium through puppeteer-core: `npm install --save-dev puppeteer-core`');
  }
}

// The demo page in Chromium: it trains with a falling loss curve, lists its layers and their
// trainable state, times kernels, lists a weight file and decodes images given through its file
// inputs; without WebGPU it says so. Leaves a screenshot in out/browser/demo.png.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors, type TensorToWrite } from '../../src/models/formats/index.js';
import { launchChromium, type LaunchedChromium } from '../../src/testing/index.js';
import { photoLikeJpeg } from '../data/make-images.js';
import { openPage, root, startDevServer, startPreviewOfBuild, withPageErrors, type OpenedPage, type WebServer } from './harness.js';

const screenshots = join(root, 'out', 'browser');
const text = (page: Page, selector: string) => page.$eval(selector, (node) => node.textContent ?? '');

describe('with WebGPU', () => {
  let server: WebServer;
  let chromium: LaunchedChromium;
  let opened: OpenedPage;
  let files: string;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 'wgt-demo-'));
    server = await startDevServer();
    chromium = await launchChromium();
    opened = await openPage(chromium.browser, server.url);
    try {
      await opened.page.waitForSelector('body[data-state="trained"], body[data-state="no-webgpu"], body[data-state="error"]', { timeout: 150_000 });
    } catch (error) {
      throw new Error(withPageErrors(`the demo did not finish training: ${(error as Error).message}`, opened.errors));
    }
    const state = await opened.page.$eval('body', (body) => body.dataset.state);
    if (state !== 'trained') throw new Error(withPageErrors(`the demo ended in state '${state}': ${await text(opened.page, '#adapter')}`, opened.errors));
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await rm(files, { recursive: true, force: true });
  });

  it('shows the adapter, with a warning for a software one', async () => {
    const panel = await text(opened.page, '#adapter');
    expect(panel).toMatch(/swiftshader/i);
    expect(panel).toMatch(/software adapter.*say nothing about how fast any GPU is/);
  });

  it('trains: the loss falls and the curve shows every step', async () => {
    const { losses, accuracy } = await opened.page.evaluate(() => window.wgtDemo);
    expect(losses).toHaveLength(60);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    const points = await opened.page.$eval('#loss-curve polyline', (line) => line.getAttribute('points')!.split(' '));
    expect(points).toHaveLength(60);
    // SVG y grows downwards: a falling loss ends lower on screen than it started, i.e. a larger y.
    const y = (p: string) => Number(p.split(',')[1]);
    expect(y(points.at(-1)!)).toBeGreaterThan(y(points[0]!));
    expect(await text(opened.page, '#training-status')).toMatch(/Loss .* → .*% of the 128 points right/);
  });

  it('lists layers from their named parameters, and freezing one is shown', async () => {
    const layers = await opened.page.$$eval('#layers tbody tr', (rows) => rows.map((r) => r.getAttribute('data-layer')));
    expect(layers).toEqual(['fc1', 'fc2']);
    expect(await text(opened.page, '#layers-panel')).toMatch(/82 trainable values, 0 frozen/);
    await opened.page.click('#layers tr[data-layer="fc1"] input[type="checkbox"]');
    expect(await opened.page.$eval('#layers tr[data-layer="fc1"]', (row) => row.classList.contains('frozen'))).toBe(true);
    expect(await text(opened.page, '#layers-panel')).toMatch(/34 trainable values, 48 frozen/);
    await opened.page.click('#layers tr[data-layer="fc1"] input[type="checkbox"]');
  });

  it('times one training step kernel by kernel (timestamp-query)', async () => {
    expect(await text(opened.page, '#timings-panel'), 'the timings panel').not.toMatch(/Timing failed/);
    const kernels = await opened.page.$$eval('#timings tbody tr', (rows) => rows.map((r) => r.cells[0]!.textContent));
    expect(kernels.length).toBeGreaterThan(3);
    expect(kernels.some((k) => k!.startsWith('matmul.'))).toBe(true);
  });

  it('lists a weight file given to its file input, and loads it into the model when it fits', async () => {
    const state = new Map<string, TensorToWrite>([
      ['fc1.weight', { dtype: 'F32', shape: [16, 2], data: new Float32Array(32).fill(0.5) }],
      ['fc1.bias', { dtype: 'F32', shape: [16], data: new Float32Array(16) }],
      ['fc2.weight', { dtype: 'F32', shape: [2, 16], data: new Float32Array(32).fill(-0.25) }],
      ['fc2.bias', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
    ]);
    const path = join(files, 'tiny.safetensors');
    await writeFile(path, writeSafetensors(state));
    const input = await opened.page.$('input#weights-input');
    await input!.uploadFile(path);
    await opened.page.waitForSelector('#weights .weights-summary', { timeout: 30_000 });
    expect(await text(opened.page, '#weights')).toMatch(/tiny\.safetensors: safetensors, 4 tensors, 82 values.*Loaded into the demo model/);
    const rows = await opened.page.$$eval('#weight-tensors tbody tr', (trs) => trs.map((tr) => tr.cells[0]!.textContent));
    expect(rows.sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
  });

  it('lists a weight file that does not fit the model, and says why it was not loaded', async () => {
    const path = join(files, 'other.safetensors');
    await writeFile(path, writeSafetensors(new Map([['classifier.weight', { dtype: 'F32', shape: [3, 4], data: new Float32Array(12) }]])));
    const input = await opened.page.$('input#weights-input');
    await input!.uploadFile(path);
    await opened.page.waitForFunction(() => document.querySelector('#weights .weights-summary')?.textContent?.startsWith('other.safetensors'), { timeout: 30_000 });
    const panel = await text(opened.page, '#weights');
    expect(panel).toMatch(/other\.safetensors: safetensors, 1 tensor,/);
    expect(panel).toMatch(/Not loaded into the demo model: .*fc1\.weight/s);
  });

  it('decodes images given to its file input, and says why a file is not one', async () => {
    const photo = join(files, 'photo.jpg');
    const notAnImage = join(files, 'notes.jpg');
    await writeFile(photo, await photoLikeJpeg(320, 240, 5));
    await writeFile(notAnImage, 'not a picture at all');
    const input = await opened.page.$('input#images-input');
    await input!.uploadFile(photo, notAnImage);
    await opened.page.waitForFunction(() => document.querySelectorAll('#images figcaption').length === 2, { timeout: 30_000 });
    const captions = await opened.page.$$eval('#images figcaption', (nodes) => nodes.map((n) => n.textContent));
    expect(captions[0]).toBe('photo.jpg: 320×240');
    expect(captions[1]).toMatch(/notes\.jpg: not-an-image/);
    expect(await opened.page.$$eval('#images canvas', (c) => c.length)).toBe(1);
  });

  it('leaves a screenshot of the demo page in out/browser/demo.png', async () => {
    await mkdir(screenshots, { recursive: true });
    await opened.page.setViewport({ width: 1200, height: 900 });
    await opened.page.screenshot({ path: join(screenshots, 'demo.png'), fullPage: true });
  });

  it('logged no errors on the way', () => {
    expect(opened.errors).toEqual([]);
  });
});

describe('without WebGPU (the static build, served by vite preview)', () => {
  let server: WebServer;
  let chromium: LaunchedChromium;

  beforeAll(async () => {
    server = await startPreviewOfBuild();
    chromium = await launchChromium({ webgpu: false });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('says so when the browser offers no adapter (Chromium without --enable-unsafe-webgpu)', async () => {
    const { page } = await openPage(chromium.browser, server.url);
    await page.waitForSelector('body[data-state="no-webgpu"]', { timeout: 30_000 });
    expect(await text(page, '#adapter h2')).toBe('No WebGPU in this browser');
    expect(await page.$eval('section#adapter', (panel) => panel.dataset.cause)).toBe('no-adapter');
    expect(await text(page, '#adapter')).toMatch(/--enable-unsafe-webgpu/);
    expect(await page.$eval('#training', (panel) => getComputedStyle(panel).display)).toBe('none');
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'no-webgpu.png') });
  });

  it('says so when the browser has no navigator.gpu at all', async () => {
    const page = await chromium.browser.newPage();
    await page.evaluateOnNewDocument(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="no-webgpu"]', { timeout: 30_000 });
    expect(await page.$eval('section#adapter', (panel) => panel.dataset.cause)).toBe('no-api');
    expect(await text(page, '#adapter')).toMatch(/does not offer WebGPU/);
  });
});

// The benchmark page (web/bench.html) in Chromium: it races our training steps and kernels
// against tfjs-backend-webgpu's on the browser's adapter with the Node bench's code, shows the
// figures, and gives them as the bench's JSON, which bench/compare.ts reads.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type LaunchedChromium } from '../../src/testing/index.js';
import { compareReports } from '../../bench/compare.js';
import type { StepSpec } from '../../bench/train-step.js';
import { openPage, startDevServer, withPageErrors, type OpenedPage, type WebServer } from './harness.js';

let server: WebServer;
let chromium: LaunchedChromium;
let opened: OpenedPage;

beforeAll(async () => {
  server = await startDevServer();
  chromium = await launchChromium();
  opened = await openPage(chromium.browser, `${server.url}bench.html`);
  await opened.page.waitForFunction(() => window.wgtBench !== undefined, { timeout: 60_000 });
  const ready = await opened.page.evaluate(() => window.wgtBench.ready);
  if (!ready.ok) throw new Error(withPageErrors(`Chromium gave the benchmark page no WebGPU adapter: ${ready.error}`, opened.errors));
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

it('races our steps and a kernel against tfjs on the page, shows the figures and gives the bench JSON', async () => {
  // The small VGG at batch 4: SwiftShader's size (the page's own choices are for a GPU).
  const specs: StepSpec[] = [true, false].map((frozenBase) => ({ model: 'smallvgg', batch: 4, size: 32, classes: 2, frozenBase }));
  // One kernel too, a small one: the max-pool on VGG16's third block at batch 4.
  const report = await opened.page.evaluate((s) => window.wgtBench.run({ specs: s, reps: 1, tfjs: true, kernels: '^maxpool2x2 4x128x', profile: true, ceiling: true }), specs);
  expect(report.train.map((r) => r.name)).toEqual(['train.smallvgg.frozenBase', 'train.smallvgg.full']);
  for (const r of report.train) {
    expect(r.error, withPageErrors(`ours: ${r.error}`, opened.errors)).toBeUndefined();
    expect(r.tfjsError, `tfjs: ${r.tfjsError}`).toBeUndefined();
    expect(r.oursImagesPerSec).toBeGreaterThan(0);
    expect(r.tfjsImagesPerSec).toBeGreaterThan(0);
    // The engine's step invariants hold in a browser too: one submit, nothing created, nothing read back.
    expect(r.invariants).toMatchObject({ submitsPerStep: 1, buffersCreatedPerStep: 0, readbacksPerStep: 0 });
  }
  expect(report.kernels.map((k) => [k.name, k.unit])).toEqual([['maxpool2x2', 'GB/s']]);
  expect(report.kernels[0]!.error).toBeUndefined();
  expect(report.kernels[0]!.oursRate).toBeGreaterThan(0);
  expect(report.kernels[0]!.tfjsRate).toBeGreaterThan(0);
  // The adapter's ceilings, measured first: every rate is also shown as a share of them.
  for (const rate of [report.ceilings!.fmaGflops, report.ceilings!.copyGbps, report.ceilings!.readGbps]) expect(rate).toBeGreaterThan(0);
  expect(await opened.page.$eval('#results p.note', (p) => p.textContent)).toMatch(/^This adapter's ceilings, measured first: [\d.]+ GFLOP\/s of multiply-adds/);
  expect(report.meta.tfjsVersion).toMatch(/^4\./);
  expect(report.meta.commit).toMatch(/^[0-9a-f]{12}$/); // the clone's commit, as the Node bench names it
  expect(report.meta.adapterLine).toMatch(/swiftshader/i);

  const shown = await opened.page.$$eval('#results table:nth-of-type(-n+2) tbody tr', (rows) => rows.map((row) => Array.from(row.querySelectorAll('td'), (td) => td.textContent)));
  expect(shown.map((cells) => cells[0])).toEqual(['train.smallvgg.frozenBase', 'train.smallvgg.full', 'maxpool2x2']);
  expect(shown[2]!.slice(5, 7).every((cell) => /^[\d.]+%$/.test(cell ?? ''))).toBe(true); // ours and tfjs, of the ceiling

  // Each of our steps profiled: every kernel's count and, with timestamp-query, its time and the
  // products' GFLOP/s; the frozen base runs no convolution gradient.
  expect(report.profiles.map((p) => p.label)).toEqual(['train.smallvgg.frozenBase 4x3x32x32, 2 classes', 'train.smallvgg.full 4x3x32x32, 2 classes']);
  const [frozen, full] = report.profiles as [(typeof report.profiles)[0], (typeof report.profiles)[0]];
  for (const p of [frozen, full]) {
    expect(p.submitsPerStep).toBe(1);
    const forward = p.kernels.filter((k) => k.phase === 'forward' && /^conv2d\.forward/.test(k.name));
    expect(forward.reduce((sum, k) => sum + (k.flopsPerStep ?? 0), 0)).toBeGreaterThan(0);
    if (p.mode === 'timestamp-query') for (const k of forward) expect(k.gflops ?? 0, k.name).toBeGreaterThan(0);
  }
  expect(full.kernels.some((k) => /^conv2d\.weight_grad/.test(k.name))).toBe(true);
  expect(frozen.kernels.some((k) => /^conv2d\.(weight|input)_grad/.test(k.name))).toBe(false);
  const profileHeaders = await opened.page.$$eval('#results table:nth-of-type(n+3) thead', (heads) => heads.map((h) => h.textContent));
  const kernelHeader = 'phasekernelwhat it computescount/stepms/stepshareGFLOP/s (of ceiling)';
  const layerHeader = 'layermoduleforward msbackward: data msbackward: parameters msupdate mstotal msshareGFLOP/s (of ceiling)saved for backward';
  console.log(`benchmark page profiles: ${frozen.mode}`);
  if (frozen.mode === 'timestamp-query') {
    // Each profile by layer too: the frozen base's convolutions ran their forward and nothing else.
    expect(profileHeaders).toEqual([kernelHeader, layerHeader, kernelHeader, layerHeader]);
    const convs = (p: typeof frozen) => p.layers.filter((r) => r.module.startsWith('Conv2d'));
    expect(convs(frozen).map((r) => r.layer)).toEqual(convs(full).map((r) => r.layer));
    expect(convs(frozen).length).toBeGreaterThan(0);
    for (const r of convs(frozen)) expect(r.dispatches, r.layer).toEqual({ forward: r.dispatches.forward, dataGradient: 0, parameterGradients: 0, update: 0 });
    for (const r of convs(frozen)) expect(r.dispatches.forward, r.layer).toBeGreaterThan(0);
    for (const r of convs(full)) expect(r.dispatches.parameterGradients, r.layer).toBeGreaterThan(0);
    for (const r of convs(frozen)) expect(r.savedBytes, r.layer).toBe(0);
    for (const r of convs(full)) expect(r.savedBytes, r.layer).toBeGreaterThan(0);
  } else {
    expect(profileHeaders).toEqual([kernelHeader, kernelHeader]);
  }
  expect(await opened.page.$eval('#download', (a) => (a as HTMLAnchorElement).hidden)).toBe(false);

  // bench/compare.ts reads the page's report as it reads the Node bench's.
  expect(compareReports(report, report)).toMatch(/\| train\.smallvgg\.full \| 4x3x32x32, 2 classes \| [\d.]+ img\/s \| [\d.]+ img\/s \| 1\.00x \|/);
});

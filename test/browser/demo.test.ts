// The demo page in Chromium (SwiftShader): the transfer-learning demo runs with a falling loss,
// phase 1 leaves every base parameter exactly as loaded while the head moves, the layers panel
// follows the phases, the augmented-sample grid is drawn, one step of each phase is timed kernel
// by kernel, a weight file becomes the pretrained base, and the recipe trains on images given to
// its file inputs, skipping a corrupt one. The progress bar is painted step by step. A run can be
// stopped within two steps of an epoch (a Stop seen after its last step leaves it finished and
// scored), its settings locked while it trains; a run waits for a weight file still loading, and
// does not start if that file cannot be read; a failed draw of the samples is reported in its
// panel. Without WebGPU it says so. Screenshots in out/browser/.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawTask, TARGET_CLASSES } from '../../src/demo/shapes.js';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import { writePytorchZip, writeSafetensors, type TensorToWrite } from '../../src/models/formats/index.js';
import { launchChromium, type LaunchedChromium } from '../../src/testing/index.js';
import { openPage, root, startDevServer, startPreviewOfBuild, withPageErrors, type OpenedPage, type WebServer } from './harness.js';

const screenshots = join(root, 'out', 'browser');
const demoWeights = join(root, 'assets', 'demo', 'source-smallvgg.safetensors');
const text = (page: Page, selector: string) => page.$eval(selector, (node) => node.textContent ?? '');
const BASE = ['features.0', 'features.2', 'features.5', 'features.7', 'features.10', 'features.12', 'classifier.0'];
const HEAD = 'classifier.2';
/** What a run is made of, locked while one trains. */
const RUN_SETTINGS = ['#method', '#head-epochs', '#finetune-epochs', '#weights-input', '.image-class .class-name', '#class-files-0', '#add-class'];

/** `disabled` of each run setting and of the buttons that start and stop runs. */
const disabledControls = (page: Page) =>
  page.evaluate((selectors) => Object.fromEntries(selectors.map((s) => [s, document.querySelector<HTMLButtonElement>(s)!.disabled])), [...RUN_SETTINGS, '#train', '#train-files', '#stop']);
const allSettings = (disabled: boolean) => Object.fromEntries(RUN_SETTINGS.map((s) => [s, disabled]));

async function setEpochs(page: Page, head: number, finetune: number): Promise<void> {
  await page.$eval('#head-epochs', (input, n) => ((input as HTMLInputElement).value = String(n)), head);
  await page.$eval('#finetune-epochs', (input, n) => ((input as HTMLInputElement).value = String(n)), finetune);
}

/** The demo's pretrained weights as a PyTorch zip `.pth`, at `path`. */
async function writeDemoWeightsAsPth(path: string): Promise<void> {
  const file = await openWeightsFile(demoWeights);
  const tensors = new Map<string, TensorToWrite>();
  for (const name of file.entries.keys()) tensors.set(name, { dtype: 'F32', shape: file.entries.get(name)!.shape, data: await file.read(name) });
  await file.close();
  await writeFile(path, writePytorchZip(tensors));
}

/** After `start` (a click), waits for the run to end; what the page then says of it. */
async function runOutcome(page: Page, start: () => Promise<unknown>) {
  await start();
  await page.waitForSelector('body:not([data-state="training"])', { timeout: 120_000 });
  const run = (await page.evaluate(() => window.wgtDemo.transfer))!;
  return { state: await page.$eval('body', (body) => body.dataset.state), run, status: await text(page, '#training-status') };
}

const augmentColumns = (page: Page) => page.$$eval('#augment-panel .column', (spans) => spans.map((s) => s.textContent));

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(screenshots, { recursive: true });
  await page.setViewport({ width: 1200, height: 900 });
  await page.screenshot({ path: join(screenshots, name), fullPage: true });
}

describe('with WebGPU', () => {
  let server: WebServer;
  let chromium: LaunchedChromium;
  let opened: OpenedPage;
  let files: string;
  let page: Page;
  let waitingMessage = '';
  let controlsWhileTraining: Record<string, boolean> = {};
  let controlsAfterStop: Record<string, boolean> = {};
  let gpuBuffers: { beforeRun?: number | null; afterStop?: number | null } = {};

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 'wgt-demo-'));
    server = await startDevServer();
    chromium = await launchChromium();
    opened = await openPage(chromium.browser, server.url);
    page = opened.page;
    // On a software adapter (SwiftShader here) the page waits for the button before its minute of
    // training; on a GPU it trains at once, so wait for it to be trained instead.
    await page.waitForSelector('body[data-state="ready"], body[data-state="trained"], body[data-state="no-webgpu"], body[data-state="error"]', { timeout: 60_000 });
    waitingMessage = await text(page, '#training-status');
    if (await page.$eval('body', (body) => body.dataset.state) === 'ready') await page.click('#train');
    try {
      // The demo run (about 40 s on SwiftShader), then one timed step of each phase.
      await page.waitForSelector('body[data-state="trained"], body[data-state="no-webgpu"], body[data-state="error"]', { timeout: 280_000 });
    } catch (error) {
      throw new Error(withPageErrors(`the demo did not finish training: ${(error as Error).message}`, opened.errors));
    }
    const state = await page.$eval('body', (body) => body.dataset.state);
    if (state !== 'trained') throw new Error(withPageErrors(`the demo ended in state '${state}': ${await text(page, '#adapter')}`, opened.errors));
  }, 300_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await rm(files, { recursive: true, force: true });
  });

  it('waits for the Train button on a software adapter instead of starting a minute of CPU on load', () => {
    expect(waitingMessage).toMatch(/is a software adapter: the demo run takes about a minute of CPU here\. Press Train to start it\./);
  });

  it('shows the adapter, with a warning for a software one', async () => {
    const panel = await text(page, '#adapter');
    expect(panel).toMatch(/swiftshader/i);
    expect(panel).toMatch(/software adapter.*say nothing about how fast any GPU is/);
  });

  it('runs the transfer demo: head, then fine-tuning; the loss falls and the curves show every epoch', async () => {
    const run = (await page.evaluate(() => window.wgtDemo.transfer))!;
    expect(run).toMatchObject({ task: 'demo', method: 'transfer+finetune', classes: ['star', 'hexagon', 'crescent', 'ell'], trainImages: 40, testImages: 200, finished: true });
    expect(run.history.map((r) => r.phase)).toEqual(['transfer', 'transfer', 'transfer', 'finetune', 'finetune']);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    expect(run.losses.at(-1)!).toBeLessThan(0.85 * run.losses[0]!);
    expect(run.testAccuracy!).toBeGreaterThan(0.35); // four classes: chance is 0.25
    // curvesSvg: a loss and an accuracy panel, each with a training and a validation line of 5 points.
    const lines = await page.$$eval('#curves svg polyline', (nodes) => nodes.map((n) => n.getAttribute('points')!.split(' ').length));
    expect(lines).toEqual([5, 5, 5, 5]);
    expect(await text(page, '#training-status')).toMatch(/Training loss .* → .*Accuracy on the 200 held-out test images: \d+\.\d%/);
  });

  it('phase 1 leaves every base parameter exactly as loaded (read back from the GPU) while the head learns; phase 2 moves them all', async () => {
    const [transfer, finetune] = (await page.evaluate(() => window.wgtDemo.transfer!.phases))!;
    expect(transfer!.trainable).toEqual([`${HEAD}.weight`, `${HEAD}.bias`]);
    expect(transfer!.frozen).toEqual(BASE.flatMap((layer) => [`${layer}.weight`, `${layer}.bias`]));
    for (const name of transfer!.frozen) expect(transfer!.changes![name], name).toBe(0);
    for (const name of transfer!.trainable) expect(transfer!.changes![name], name).toBeGreaterThan(0);
    expect(finetune!.frozen).toEqual([]);
    for (const [name, change] of Object.entries(finetune!.changes!)) expect(change, name).toBeGreaterThan(0);
  });

  it('shows each layer frozen or training, phase by phase', async () => {
    const rows = await page.$$eval('#layers tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-layer'), ...Array.from(tr.querySelectorAll('td.state .state-name'), (td) => td.textContent)]));
    expect(rows).toEqual([...BASE.map((layer) => [layer, 'frozen', 'trains']), [HEAD, 'trains', 'trains']]);
    // Under each phase, once it ended, how far the layer's values moved: phase 1 left the base exactly as it was.
    const moved = await page.$$eval('#layers tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td.state .change'), (span) => span.textContent)));
    for (const [i, layer] of BASE.entries()) expect(moved[i]![0], layer).toBe('unchanged');
    expect(moved.at(-1)![0]).toMatch(/^Δ \d/);
    expect(moved.every((m) => /^Δ \d/.test(m[1]!))).toBe(true);
    const phases = await page.$$eval('#layers thead th', (ths) => ths.slice(3).map((th) => th.textContent));
    expect(phases).toEqual(['1. transfer (lr 0.01)', '2. finetune (lr 0.001)']);
    expect(await text(page, '#layers-panel .layers-summary')).toMatch(/Phase 2 \(finetune\): 203,796 trainable values, 0 frozen/);
  });

  it('draws a grid of augmented samples: one image per class, its validation view and five epochs of training crops', async () => {
    const tiles = await page.$$eval('#augment-panel canvas.tile', (canvases) =>
      canvases.map((canvas) => {
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let low = 255;
        let high = 0;
        for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) [low, high] = [Math.min(low, data[i + c]!), Math.max(high, data[i + c]!)];
        return { width: canvas.width, title: canvas.title, spread: high - low };
      }),
    );
    expect(tiles).toHaveLength(4 * 6);
    for (const t of tiles) expect(t.spread, `a tile with a shape on a background: ${t.title}`).toBeGreaterThan(40);
    expect(tiles.every((t) => t.width === 32)).toBe(true);
    expect(tiles[0]!.title).toMatch(/^resize 36x36, centre crop/);
    expect(tiles[1]!.title).toMatch(/^crop \d+x\d+ at/);
    // The other transform adds rotation and colour jitter (left on for the screenshot).
    await page.select('#augment-transform', 'more');
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLCanvasElement>('#augment-panel canvas.tile')).some((c) => /rot -?\d/.test(c.title)), { timeout: 30_000 });
    const titles = await page.$$eval('#augment-panel canvas.tile', (canvases) => canvases.map((c) => c.title));
    expect(titles.filter((t) => /\bb\d\.\d\d/.test(t) && /\bh-?\d\.\d\d/.test(t)).length).toBeGreaterThan(10); // brightness, hue factors
  });

  it('draws one set of epochs at a time: a second "Next 5 epochs" while the first draws does nothing', async () => {
    // Both clicks in one go: the second comes while the first's epochs are on the GPU.
    await page.$eval('#augment-next', (next) => {
      (next as HTMLButtonElement).click();
      (next as HTMLButtonElement).click();
    });
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('#augment-next')!.disabled, { timeout: 30_000 });
    expect(await augmentColumns(page)).toEqual(['validation', 'epoch 6', 'epoch 7', 'epoch 8', 'epoch 9', 'epoch 10']);
  });

  it('says in its panel why the augmented samples could not be drawn, and the page goes on: the same epochs draw next time', async () => {
    const first = Number((await augmentColumns(page))[1]!.split(' ')[1]);
    // The next tile put on a canvas fails, once.
    await page.evaluate(() => {
      const putImageData = CanvasRenderingContext2D.prototype.putImageData;
      CanvasRenderingContext2D.prototype.putImageData = () => {
        CanvasRenderingContext2D.prototype.putImageData = putImageData;
        throw new Error('the canvas refused the tile');
      };
    });
    const next = () => page.$eval('#augment-next', (button) => (button as HTMLButtonElement).click());
    await next();
    await page.waitForSelector('#augment-panel .augment-grid .error', { timeout: 20_000 });
    expect(await text(page, '#augment-panel .augment-grid')).toBe('Could not draw the augmented samples: the canvas refused the tile');
    const usable = () => page.evaluate(() => ({ state: document.body.dataset.state, next: !document.querySelector<HTMLButtonElement>('#augment-next')!.disabled, transform: !document.querySelector<HTMLSelectElement>('#augment-transform')!.disabled }));
    expect(await usable()).toEqual({ state: 'trained', next: true, transform: true });
    await next();
    await page.waitForFunction(() => document.querySelectorAll('#augment-panel canvas.tile').length === 24, { timeout: 20_000 });
    expect(await augmentColumns(page)).toEqual(['validation', ...[5, 6, 7, 8, 9].map((k) => `epoch ${first + k}`)]);
  });

  it("times one training step of each phase kernel by kernel: the frozen base's step computes no convolution gradient", async () => {
    expect(await page.evaluate(() => window.wgtDemo.timings)).toMatchObject({ mode: 'timestamp-query' });
    // Warm steps: nothing created while they were timed.
    expect(await text(page, '#timings-panel pre.summary')).not.toMatch(/not warm/);
    const rows = await page.$$eval('#timings tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent!)));
    const row = (kernel: string) => rows.find((r) => r[1] === kernel)!;
    expect(row('(conv weight/bias gradients)')[3]).toBe('0');
    expect(Number(row('(conv weight/bias gradients)')[6])).toBeGreaterThan(0); // the full step's (n, ms and GFLOP/s per side)
    expect(Number(row(rows.find((r) => r[1]!.startsWith('conv2d.forward'))![1]!)[5])).toBeGreaterThan(0); // the forward's GFLOP/s
    expect(Number(row('(all)')[4])).toBeGreaterThan(0); // forward kernel time with the base frozen, in ms
    expect(rows.some((r) => r[1]!.startsWith('conv2d.forward'))).toBe(true);
    // By layer: with the base frozen, each of its convolutions ran its forward and nothing else; fine-tuned, all four.
    const layers = await page.$$eval('#layer-timings tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent!)));
    const convs = layers.filter((r) => r[1] === 'Conv2d + ReLU');
    expect(convs.map((r) => r[0])).toEqual(['features.0', 'features.2', 'features.5', 'features.7', 'features.10', 'features.12']);
    // Columns: layer, module, then per step forward, backward data, parameters, update, total, saved for backward.
    for (const r of convs) {
      expect(Number(r[2]), r[0]).toBeGreaterThanOrEqual(0);
      expect([...r.slice(3, 6), r[7]], r[0]).toEqual(['-', '-', '-', '-']);
      expect(r.slice(9, 12).every((cell) => /^\d+\.\d$/.test(cell)), r[0]).toBe(true);
      expect(r[13], r[0]).toMatch(/^[\d.]+ [KM]iB$/);
    }
  });

  it('leaves a screenshot of the demo page after its run in out/browser/demo.png', async () => {
    await screenshot(page, 'demo.png');
  });

  it('lists a weight file that does not fit the network, and says why it is not used', async () => {
    const path = join(files, 'other.safetensors');
    await writeFile(path, writeSafetensors(new Map([['classifier.weight', { dtype: 'F32', shape: [3, 4], data: new Float32Array(12) }]])));
    await (await page.$('input#weights-input'))!.uploadFile(path);
    await page.waitForFunction(() => document.querySelector('#weights .weights-summary')?.textContent?.startsWith('other.safetensors'), { timeout: 30_000 });
    const panel = await text(page, '#weights');
    expect(panel).toMatch(/other\.safetensors: safetensors, 1 tensor,/);
    expect(panel).toMatch(/Not used: .*features\.0\.weight/s);
    expect(await page.evaluate(() => window.wgtDemo.pretrained)).toBe('source-smallvgg.safetensors');
  });

  it('takes a PyTorch .pth that fits as the pretrained base of the next runs', async () => {
    const path = join(files, 'my-base.pth');
    await writeDemoWeightsAsPth(path);
    await (await page.$('input#weights-input'))!.uploadFile(path);
    await page.waitForFunction(() => document.querySelector('#weights .weights-summary')?.textContent?.startsWith('my-base.pth'), { timeout: 30_000 });
    expect(await text(page, '#weights')).toMatch(/my-base\.pth: pytorch-zip, 16 tensors, 204,570 values.*Fits the demo's network \(14 tensors loaded; the head, classifier\.2\.weight and classifier\.2\.bias, stays new\)/s);
    expect(await page.$$eval('#weight-tensors tbody tr', (trs) => trs.length)).toBe(16);
    expect(await page.evaluate(() => window.wgtDemo.pretrained)).toBe('my-base.pth');
  });

  it("trains the recipe on images picked for two classes, skipping and counting a file that is not an image", async () => {
    const classFiles: string[][] = [[], []];
    const drawn = drawTask(TARGET_CLASSES.slice(0, 2), { size: 64, perClass: 4, seed: 3, stream: 7 });
    for (const [i, image] of drawn.entries()) {
      const path = join(files, `${TARGET_CLASSES[image.label]!.name}-${i}.png`);
      await writeFile(path, await sharp(Buffer.from(image.pixels), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer());
      classFiles[image.label]!.push(path);
    }
    const broken = join(files, 'broken.png');
    await writeFile(broken, 'not a picture at all');
    classFiles[1]!.push(broken);
    for (const [label, paths] of classFiles.entries()) {
      const name = await page.$(`.image-class[data-class="${label}"] .class-name`);
      await name!.click({ count: 3 });
      await name!.type(TARGET_CLASSES[label]!.name);
      await ((await page.$(`#class-files-${label}`)) as ElementHandle<HTMLInputElement>).uploadFile(...paths);
    }
    await page.waitForFunction(() => window.wgtDemo.files.images + window.wgtDemo.files.skipped === 9, { timeout: 30_000 });
    expect(await page.evaluate(() => window.wgtDemo.files)).toEqual({ images: 8, skipped: 1 });
    expect(await text(page, '#files-status')).toMatch(/8 images decoded, 1 file skipped\. Skipped: broken\.png: not-an-image/);
    // A short run: one epoch of each phase.
    await setEpochs(page, 1, 1);
    await page.click('#train-files');
    await page.waitForFunction(() => window.wgtDemo.transfer?.task === 'files' && window.wgtDemo.transfer.finished, { timeout: 120_000 });
    const run = (await page.evaluate(() => window.wgtDemo.transfer))!;
    expect(run).toMatchObject({ classes: ['star', 'hexagon'], trainImages: 6, testImages: 2 });
    expect(run.history.map((r) => r.phase)).toEqual(['transfer', 'finetune']);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    for (const name of run.phases[0]!.frozen) expect(run.phases[0]!.changes![name], name).toBe(0);
    expect(await text(page, '#training-status')).toMatch(/Accuracy on your 2 held-out images \(which also chose the best epoch\): \d+\.\d%.*chance is 50\.0%/);
    await page.waitForSelector('body[data-state="trained"]');
    await screenshot(page, 'demo-your-images.png');
  });

  it('stops a run when Stop is pressed, and says it stopped, not failed', async () => {
    gpuBuffers.beforeRun = await page.evaluate(() => window.wgtDemo.liveGpuBuffers);
    await setEpochs(page, 3, 2); // more than it trains before the stop (an epoch takes about a second here)
    await page.click('#train');
    await page.waitForSelector('#stop:not([disabled])');
    controlsWhileTraining = await disabledControls(page);
    // Clicked in the page, not at the button's place on screen: the layers panel above it redraws
    // as the run's first phase begins, and can move it from under a mouse click.
    await page.$eval('#stop', (stop) => (stop as HTMLButtonElement).click());
    await page.waitForSelector('body:not([data-state="training"])', { timeout: 120_000 });
    controlsAfterStop = await disabledControls(page);
    gpuBuffers.afterStop = await page.evaluate(() => window.wgtDemo.liveGpuBuffers);
    const run = (await page.evaluate(() => window.wgtDemo.transfer))!;
    expect({ state: await page.$eval('body', (body) => body.dataset.state), stopped: run.stopped, finished: run.finished, status: await text(page, '#training-status') }).toEqual({
      state: 'stopped',
      stopped: true,
      finished: false,
      status: expect.stringMatching(/^Stopped after [0-4] of 5 epochs, as asked: the run's model and optimiser are freed, and it has no test score\./),
    });
  });

  it("frees the stopped run's model, optimiser, best weights and epoch sums, as a finished run does", () => {
    expect(gpuBuffers.beforeRun).toBeTypeOf('number');
    expect(gpuBuffers.afterStop).toBe(gpuBuffers.beforeRun);
  });

  it('locks the run settings while a run trains and unlocks them when it ends', () => {
    expect({ whileTraining: controlsWhileTraining, afterStop: controlsAfterStop }).toEqual({
      whileTraining: { ...allSettings(true), '#train': true, '#train-files': true, '#stop': false },
      afterStop: { ...allSettings(false), '#train': false, '#train-files': false, '#stop': true },
    });
  });

  it('trains a new run after a stopped one', async () => {
    await setEpochs(page, 1, 1);
    await page.click('#train');
    await page.waitForSelector('body[data-state="trained"], body[data-state="error"]', { timeout: 120_000 });
    const run = (await page.evaluate(() => window.wgtDemo.transfer))!;
    expect(run).toMatchObject({ task: 'demo', finished: true, stopped: false });
    expect(run.history.map((r) => r.phase)).toEqual(['transfer', 'finetune']);
    expect(await text(page, '#training-status')).toMatch(/Accuracy on the 200 held-out test images: \d+\.\d%/);
  });

  it('ends a run before its first step when Stop is pressed as it starts, not at the end of its first epoch', async () => {
    const before = await page.evaluate(() => window.wgtDemo.liveGpuBuffers);
    await setEpochs(page, 3, 2);
    // Both in one turn: the stop is asked for before the first step.
    const { state, run, status } = await runOutcome(page, () =>
      page.$eval('#train', (train) => {
        (train as HTMLButtonElement).click();
        document.querySelector<HTMLButtonElement>('#stop')!.click();
      }),
    );
    expect({ state, epochs: run.history.length, stopped: run.stopped, status }).toEqual({
      state: 'stopped',
      epochs: 0,
      stopped: true,
      status: "Stopped after 0 of 5 epochs, as asked: the run's model and optimiser are freed, and it has no test score.",
    });
    expect(await page.$eval('#progress', (progress) => (progress as HTMLProgressElement).value)).toBe(0); // not one step of 5 epochs x 5 batches
    expect(await page.evaluate(() => window.wgtDemo.liveGpuBuffers)).toBe(before);
  });

  it('finishes and scores a run when Stop is seen only after its last step', async () => {
    await setEpochs(page, 1, 1);
    // Clicked as the page reports the last step, just after the trainer's last look at the stop signal.
    await page.evaluate(() => {
      const progress = document.querySelector('#progress-text')!;
      const observer = new MutationObserver(() => {
        if (!/^finetune, epoch 1, batch (\d+) of \1$/.test(progress.textContent ?? '')) return;
        observer.disconnect();
        document.querySelector<HTMLButtonElement>('#stop')!.click();
      });
      observer.observe(progress, { childList: true, characterData: true, subtree: true });
    });
    const { state, run, status } = await runOutcome(page, () => page.click('#train'));
    expect({ state, stopped: run.stopped, finished: run.finished, phases: run.history.map((r) => r.phase), scored: typeof run.testAccuracy }).toEqual({
      state: 'trained',
      stopped: false,
      finished: true,
      phases: ['transfer', 'finetune'],
      scored: 'number',
    });
    expect(status).toMatch(/^Stop came after the last training step: the run had trained all 2 epochs, so it finished\. Training loss .*Accuracy on the 200 held-out test images: \d+\.\d%/);
  });

  it('gives the page a turn to paint the progress bar at every training step, not only at the end of an epoch', async () => {
    await setEpochs(page, 1, 0); // one epoch of 5 batches
    const painted = await page.evaluate(
      () =>
        new Promise<number[]>((resolve) => {
          const progress = document.querySelector<HTMLProgressElement>('#progress')!;
          const values: number[] = [];
          // Read in every task the page runs, until the run ends: a value is seen only if the run
          // gave the page a turn (where it can paint) while it showed. Tasks, not animation frames,
          // so that a machine fast enough to run two steps within one frame still sees each.
          const channel = new MessageChannel();
          const poll = () => {
            // From the run's start, which sets the bar to 0 (it shows the last run's end before).
            const started = values.length > 0 || progress.value === 0;
            if (started && values.at(-1) !== progress.value) values.push(progress.value);
            if (document.body.dataset.state === 'training') channel.port2.postMessage(null);
            else resolve(values);
          };
          channel.port1.onmessage = poll;
          document.querySelector<HTMLButtonElement>('#train')!.click();
          poll();
        }),
    );
    // Every step's value, in order: [0, 0.2, ..., 1]. Without the pacing the page gets no turn
    // inside an epoch, and this reads [0, 1].
    expect(painted[0]).toBe(0);
    expect(painted.at(-1)).toBe(1);
    expect(painted.every((v, i) => i === 0 || v > painted[i - 1]!)).toBe(true);
    const atStepEnds = (v: number) => Math.abs(v * 5 - Math.round(v * 5)) < 1e-9; // 5 steps
    expect(painted.every(atStepEnds)).toBe(true);
    expect(painted, JSON.stringify(painted)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('ends a run within two steps when Stop is pressed during an epoch, without finishing the epoch', async () => {
    await setEpochs(page, 3, 2);
    await page.click('#train');
    // As a user would: once the page shows the first epoch's second step, a click of its own.
    await page.waitForFunction(() => document.querySelector('#progress-text')!.textContent === 'transfer, epoch 1, batch 2 of 5', { timeout: 30_000 });
    const { state, run } = await runOutcome(page, () => page.$eval('#stop', (stop) => (stop as HTMLButtonElement).click()));
    expect({ state, epochs: run.history.length, stopped: run.stopped, progress: await text(page, '#progress-text') }).toEqual({
      state: 'stopped',
      epochs: 0,
      stopped: true,
      progress: 'stopped after 0 of 5 epochs',
    });
    // The step the GPU was on when the page saw the click, and the one queued behind it: at most the 4th of 25.
    expect(await page.$eval('#progress', (progress) => (progress as HTMLProgressElement).value)).toBeLessThanOrEqual(4 / 25);
  });

  it('waits for a weight file still loading when Train is pressed, and starts the run from it', async () => {
    const path = join(files, 'late-base.pth');
    await writeDemoWeightsAsPth(path);
    await setEpochs(page, 1, 0);
    // Train is pressed as the file input reports the file: its loading has only begun.
    const statusAtTrain = page.evaluate(
      () =>
        new Promise<string>((resolve) =>
          document.addEventListener('change', () => {
            document.querySelector<HTMLButtonElement>('#train')!.click();
            resolve(document.querySelector('#training-status')!.textContent ?? '');
          }, { once: true }),
        ),
    );
    const { state, run } = await runOutcome(page, () => page.$('input#weights-input').then((input) => input!.uploadFile(path)));
    expect({ state, finished: run.finished, base: run.pretrained, next: await page.evaluate(() => window.wgtDemo.pretrained) }).toEqual({
      state: 'trained',
      finished: true,
      base: 'late-base.pth',
      next: 'late-base.pth',
    });
    expect(await statusAtTrain).toBe('Waiting for late-base.pth to load: if it fits, the run starts from it.');
    expect(await text(page, '#run-what')).toMatch(/Pretrained base: late-base\.pth\.$/);
  });

  it('does not start a run waiting for a weight file that cannot be read: it says why, nothing is left over, and the file can be picked again', async () => {
    const name = 'vanishing.safetensors';
    const path = join(files, name);
    const bytes = await readFile(demoWeights);
    await writeFile(path, bytes);
    const before = await page.evaluate(
      (name, dataStart) => {
        // Its header reads, its tensors do not, as Chromium reads a file changed or deleted on disk after it was picked.
        File.prototype.slice = function (this: File, start?: number, end?: number, type?: string) {
          const part = Blob.prototype.slice.call(this, start, end, type);
          if (this.name === name && (start ?? 0) >= dataStart) part.arrayBuffer = () => Promise.reject(new DOMException('The requested file could not be read', 'NotReadableError'));
          return part;
        };
        (window as { lastRun?: unknown }).lastRun = window.wgtDemo.transfer;
        // Train is pressed as the file input reports the file, as in the test above.
        document.addEventListener('change', () => document.querySelector<HTMLButtonElement>('#train')!.click(), { once: true });
        return { state: document.body.dataset.state, pretrained: window.wgtDemo.pretrained, liveGpuBuffers: window.wgtDemo.liveGpuBuffers };
      },
      name,
      8 + Number(bytes.readBigUInt64LE(0)), // safetensors: the header's length, the header, then the tensors
    );
    const pick = () => page.$('input#weights-input').then((input) => input!.uploadFile(path));
    const controlsBefore = await disabledControls(page);
    try {
      const { state, status } = await runOutcome(page, pick);
      const after = await page.evaluate(() => ({
        started: window.wgtDemo.transfer !== (window as { lastRun?: unknown }).lastRun,
        pretrained: window.wgtDemo.pretrained,
        liveGpuBuffers: window.wgtDemo.liveGpuBuffers,
      }));
      // The page as before the click (its state the last run's), and the reason.
      expect({ state, status, ...after }).toEqual({
        ...before,
        status: `The run did not start: ${name} could not be loaded (see Your files). Pick it again, or start the run again to train from ${before.pretrained}.`,
        started: false,
      });
      expect(await text(page, '#weights')).toBe(`${name} could not be loaded: The requested file could not be read`);
      expect(await disabledControls(page)).toEqual(controlsBefore);
      expect(controlsBefore).toMatchObject({ ...allSettings(false), '#train': false, '#stop': true });
    } finally {
      await page.evaluate(() => delete (File.prototype as { slice?: unknown }).slice);
    }
    // Readable again: picked again, it loads and becomes the base.
    await pick();
    await page.waitForFunction((name) => window.wgtDemo.pretrained === name, { timeout: 30_000 }, name);
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

  it('serves the pretrained weights as a static asset, at the address its script fetches', async () => {
    const assets = join(root, 'dist-web', 'demo', 'assets');
    const names = await readdir(assets);
    const weights = names.find((n) => n.endsWith('.safetensors'))!;
    expect(weights).toMatch(/^source-smallvgg-.*\.safetensors$/);
    const scripts = await Promise.all(names.filter((n) => n.endsWith('.js')).map((n) => readFile(join(assets, n), 'utf8')));
    // Addressed relative to the script beside it (vite's base './': the build works from any folder).
    const fetched = new RegExp(`new URL\\(["'\`]${weights.replace(/\./g, '\\.')}["'\`],\\s*import\\.meta\\.url\\)`);
    expect(scripts.some((s) => fetched.test(s))).toBe(true);
    const served = new Uint8Array(await (await fetch(`${server.url}assets/${weights}`)).arrayBuffer());
    expect(Buffer.from(served).equals(await readFile(demoWeights))).toBe(true);
  });
});

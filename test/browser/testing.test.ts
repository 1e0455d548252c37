// webgpu-transfer/testing: what other suites use to get a page with the engine loaded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebGpuUnavailableError } from '../../src/index.js';
import { chromiumArgs, launchChromium, launchEnginePage, serveEngine, type EnginePage } from '../../src/testing/index.js';

describe('launchEnginePage', () => {
  let engine: EnginePage;
  beforeAll(async () => {
    engine = await launchEnginePage({ files: { '/data/numbers.json': new TextEncoder().encode('[1, 2, 3, 4]') } });
  });
  afterAll(() => engine?.close());

  it('reports the adapter the page got, flagging a software one', () => {
    expect(engine.adapter.architecture).toBe('swiftshader');
    expect(engine.adapter.isSoftware).toBe(true);
    expect(engine.adapterLabel).toMatch(/swiftshader.*\(software adapter\)/);
    expect(engine.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('gives the page the engine as window.webgpuTransfer, ready to compute', async () => {
    const product = await engine.page.evaluate(async () => {
      const { tensor, matmul } = window.webgpuTransfer;
      return Array.from(await matmul(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 0, 0, 1, 1, 1], [3, 2])).read());
    });
    expect(product).toEqual([4, 5, 10, 11]);
  });

  it('serves extra files to the page', async () => {
    const data = await engine.page.evaluate(async () => (await fetch('/data/numbers.json')).json());
    expect(data).toEqual([1, 2, 3, 4]);
    expect(engine.pageErrors).toEqual([]);
  });
});

describe('a GPU process that crashes (Chromium restarts it)', () => {
  let engine: EnginePage;
  beforeAll(async () => {
    engine = await launchEnginePage();
  });
  afterAll(() => engine?.close());

  it('fails the next readback with DeviceLostError and its reason; a new context computes again', async () => {
    const product = () =>
      engine.page.evaluate(async () => {
        const { tensor, matmul } = window.webgpuTransfer;
        try {
          return Array.from(await matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 0, 0, 1], [2, 2])).read());
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      });
    expect(await product()).toEqual([1, 2, 3, 4]);
    await engine.crashGpuProcess(); // what a driver reset does to a page
    await engine.page.waitForFunction(() => window.webgpuTransfer.getDefaultContext().watch.failure !== null); // it arrives asynchronously
    expect(await product()).toMatch(/^DeviceLostError: the GPU device was lost \(unknown: .+\); what was on it is gone/);
    expect(engine.pageErrors).toEqual([expect.stringMatching(/^console\.error: webgpu-transfer: GPU device lost \(unknown\)/)]);
    await engine.page.evaluate(() => window.webgpuTransfer.initBrowser()); // the new default context
    expect(await product()).toEqual([1, 2, 3, 4]);
  });
});

describe('a kernel that never ends, with a limit on waits (context: { gpuTimeoutMs })', () => {
  let engine: EnginePage;
  beforeAll(async () => {
    engine = await launchEnginePage({ context: { gpuTimeoutMs: 1500 } });
  });
  afterAll(() => engine?.close());

  it('fails the wait with GpuTimeoutError at the limit; the page stays responsive and a new context computes', async () => {
    // Without the limit the page's wait never returns, and a suite learns only from its runner's timeout.
    await engine.hangGpu(); // a spinning kernel on the page's device
    const waited = await engine.page.evaluate(async () => {
      const { tensor } = window.webgpuTransfer;
      const start = performance.now();
      try {
        await tensor([1, 2], [2]).read();
        return 'the wait returned';
      } catch (error) {
        return { message: `${(error as Error).name}: ${(error as Error).message}`, ms: performance.now() - start };
      }
    });
    expect(waited).toMatchObject({ message: expect.stringMatching(/^GpuTimeoutError: the GPU has not finished its work after 1\.5 s, the limit on a wait/) });
    expect((waited as { ms: number }).ms).toBeGreaterThanOrEqual(1400);
    expect((waited as { ms: number }).ms).toBeLessThan(10_000);
    const again = await engine.page.evaluate(async () => {
      const { initBrowser, tensor, matmul } = window.webgpuTransfer;
      await initBrowser();
      return Array.from(await matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 0, 0, 1], [2, 2])).read());
    });
    expect(again).toEqual([1, 2, 3, 4]);
  });
});

describe('failing loudly', () => {
  it('throws WebGpuUnavailableError, with the reason, when the browser offers no adapter', async () => {
    const attempt = launchEnginePage({ webgpu: false });
    await expect(attempt).rejects.toThrow(WebGpuUnavailableError);
    await expect(attempt).rejects.toThrow(/requestAdapter\(\) returned null/);
  });

  it('says where Chromium was looked for when it is missing', async () => {
    await expect(launchChromium({ chromiumPath: '/nonexistent/chromium' })).rejects.toThrow(/Chromium not found at \/nonexistent\/chromium.*WGT_CHROMIUM/);
  });

  it('says how to build the bundle when it is missing', async () => {
    await expect(serveEngine({ bundle: '/nonexistent/webgpu-transfer.js' })).rejects.toThrow(/No browser bundle .*vite build --mode lib/);
  });
});

it('chromiumArgs: WebGPU on, full headless, nothing reaching the network', () => {
  const args = chromiumArgs();
  expect(args).toEqual(expect.arrayContaining(['--enable-unsafe-webgpu', '--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-quic']));
  // Dawn zeroes workgroup memory itself: SwiftShader compiled the driver's way 2.7-8x slower (runtime/dawn-features.ts).
  expect(args).toContain('--disable-dawn-features=use_vulkan_zero_initialize_workgroup_memory_extension');
  expect(chromiumArgs({ webgpu: false, headless: false })).not.toEqual(expect.arrayContaining(['--enable-unsafe-webgpu']));
  expect(chromiumArgs({ headless: false })).not.toContain('--headless=new');
});

it('serveEngine alone, for a suite that brings its own browser (Playwright, WebDriver)', async () => {
  const server = await serveEngine();
  const chromium = await launchChromium();
  try {
    const page = await chromium.browser.newPage();
    await page.goto(server.url);
    const ready = await page.evaluate(() => window.webgpuTransferReady);
    expect(ready.ok && ready.adapter.isSoftware).toBe(true);
  } finally {
    await chromium.close();
    await server.close();
  }
});

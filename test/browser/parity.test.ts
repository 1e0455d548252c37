// The shared checks (test/shared/) in Chromium: each check runs inside web/tests.html on the
// browser's WebGPU and becomes one vitest test here. The same checks run in Node in
// test/shared/node.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterLabel } from '../../src/index.js';
import { launchChromium, type LaunchedChromium } from '../../src/testing/index.js';
import { checkId, checksById, suites } from '../shared/index.js';
import type { ReadyState } from '../../web/panels/adapter.js';
import { openPage, startDevServer, withPageErrors, type OpenedPage, type WebServer } from './harness.js';

let server: WebServer;
let chromium: LaunchedChromium;
let opened: OpenedPage;
let ready: ReadyState;

beforeAll(async () => {
  server = await startDevServer();
  chromium = await launchChromium();
  opened = await openPage(chromium.browser, `${server.url}tests.html`);
  await opened.page.waitForFunction(() => window.wgtTests !== undefined, { timeout: 60_000 });
  ready = await opened.page.evaluate(() => window.wgtTests.ready);
  if (!ready.ok) throw new Error(withPageErrors(`Chromium gave the test page no WebGPU adapter: ${ready.error}`, opened.errors));
  console.log(`[webgpu-transfer browser tests] adapter: ${adapterLabel(ready.adapter)}`);
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

it('the page lists exactly the shared checks Node runs', async () => {
  const ids = await opened.page.evaluate(() => window.wgtTests.ids);
  expect(ids).toEqual([...checksById().keys()]);
});

it('the page reports its adapter, flagged as software when it is', () => {
  if (!ready.ok) throw new Error('no adapter');
  expect(ready.adapter.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThan(0);
  // Chromium here only ever gets SwiftShader; a GPU machine reports its GPU, not flagged.
  if (/swiftshader/i.test(`${ready.adapter.architecture} ${ready.adapter.description}`)) expect(ready.adapter.isSoftware).toBe(true);
});

for (const suite of suites) {
  describe(suite.name, () => {
    for (const check of suite.checks) {
      const id = checkId(suite, check);
      it(check.name, async () => {
        const result = await opened.page.evaluate((name) => window.wgtTests.run(name), id);
        if (!result.ok) throw new Error(withPageErrors(`in Chromium: ${result.message}`, opened.errors));
      });
    }
  });
}

// webgpu-transfer/testing (Node only): load the engine into a browser page from a test suite.
// See docs/browser.md, "Testing in a browser".
export { chromiumArgs, launchChromium, DEFAULT_CHROMIUM, type ChromiumOptions, type LaunchedChromium } from './chromium.js';
export { serveEngine, enginePage, DEFAULT_BUNDLE, ENGINE_PAGE, type EngineServer, type EngineServerOptions } from './serve.js';
export { launchEnginePage, collectPageErrors, type EnginePage, type EnginePageOptions } from './launch.js';
export type { EngineReady } from './page-globals.js';

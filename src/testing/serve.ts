// Node only: a static server for a page with the engine loaded, for browser test suites
// (puppeteer, Playwright, or anything that can open a URL). The page needs a secure context for
// WebGPU, hence http://127.0.0.1 rather than a file:// or data: URL.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuContextOptions } from '../runtime/context.js';

/** The browser bundle `vite build --mode lib` writes (from src/ and from dist/, both two levels down). */
export const DEFAULT_BUNDLE = fileURLToPath(new URL('../../dist-web/webgpu-transfer.js', import.meta.url));

export const BUNDLE_PATH = '/webgpu-transfer.js';

export interface EngineServerOptions {
  /** The engine's browser bundle (default DEFAULT_BUNDLE). */
  bundle?: string;
  /** More files for the page to fetch: URL path (`/data/a.safetensors`) → file on disk or contents. */
  files?: Readonly<Record<string, string | Uint8Array>>;
  /**
   * Options of the page's default context (its `initBrowser()`), e.g. `{ gpuTimeoutMs: 10_000 }`:
   * a kernel that never ends then fails the test's wait with GpuTimeoutError instead of hanging
   * the test until the runner's own time limit.
   */
  context?: GpuContextOptions;
  /** Default 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
}

export interface EngineServer {
  /** The engine page, e.g. http://127.0.0.1:39123/ */
  url: string;
  close(): Promise<void>;
}

/**
 * The page at `/`: it imports the bundle, exposes it as `window.webgpuTransfer`, and starts
 * WebGPU with `context`; `window.webgpuTransferReady` settles with the adapter or with why there
 * is none (never rejects, so a driver can report the reason).
 */
export const enginePage = (context: GpuContextOptions = {}): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webgpu-transfer</title><link rel="icon" href="data:,"></head>
<body>
<script type="module">
import * as engine from '${BUNDLE_PATH}';
window.webgpuTransfer = engine;
window.webgpuTransferReady = engine.initBrowser(${JSON.stringify(context).replace(/</g, '\\u003c')}).then(
  (ctx) => ({ ok: true, adapter: ctx.adapter, label: engine.adapterLabel(ctx.adapter) }),
  (error) => ({ ok: false, error: String((error && error.message) || error) }),
);
</script>
</body></html>
`;

/** The page with the default context's options. */
export const ENGINE_PAGE = enginePage();

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
};

/** Serves the engine page (`enginePage(options.context)`), the bundle (and its source map) and `files` on 127.0.0.1. */
export async function serveEngine(options: EngineServerOptions = {}): Promise<EngineServer> {
  const bundle = options.bundle ?? DEFAULT_BUNDLE;
  if (!existsSync(bundle)) {
    throw new Error(`No browser bundle at ${bundle}: build it with \`npx vite build --mode lib\` (npm run build:web).`);
  }
  const page = enginePage(options.context);
  const routes = new Map<string, string | Uint8Array>([
    [BUNDLE_PATH, bundle],
    [`${BUNDLE_PATH}.map`, `${bundle}.map`],
    ...Object.entries(options.files ?? {}),
  ]);
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    try {
      const body = path === '/' ? page : await contents(routes.get(path));
      if (body === undefined) {
        response.writeHead(404).end(`not found: ${path}`);
        return;
      }
      response.writeHead(200, { 'content-type': path === '/' ? CONTENT_TYPES['.html']! : (CONTENT_TYPES[extname(path)] ?? 'application/octet-stream') });
      response.end(body);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function contents(route: string | Uint8Array | undefined): Promise<string | Uint8Array | undefined> {
  if (typeof route !== 'string') return route;
  return existsSync(route) ? readFile(route) : undefined;
}

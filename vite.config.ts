// Browser builds of webgpu-transfer (see docs/browser.md):
//   vite build --mode lib    the engine (src/index.ts) as one ES module: dist-web/webgpu-transfer.js
//   vite build --mode demo   the demo page, the in-page test runner and the benchmark page, static: dist-web/demo/
//   vite                     the dev server for web/ (demo at /, parity tests at /tests.html, benchmark at /bench.html)
// Every mode refuses Node-only modules: a browser bundle that pulls in Dawn, sharp or fs fails
// to build instead of failing later in a user's page.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { sourceVersion } from './src/runtime/source-version.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const webDir = fileURLToPath(new URL('./web', import.meta.url));
const outDir = fileURLToPath(new URL('./dist-web', import.meta.url));

/**
 * Packages that only work in Node (native bindings, the file system, browser launchers). Not
 * `vite`: the page build itself imports `vite/modulepreload-polyfill`.
 */
const NODE_ONLY_PACKAGES = ['webgpu', 'sharp', 'puppeteer-core', 'puppeteer', 'vitest'];
const NODE_BUILTINS = new Set(builtinModules);

/** The Node-only module an import names, or undefined when the import is fine in a browser. */
export function nodeOnlyModule(id: string): string | undefined {
  if (id.startsWith('node:')) return id;
  const bare = id.split('/')[0]!;
  if (NODE_BUILTINS.has(id) || NODE_BUILTINS.has(bare)) return id;
  const packageName = id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : bare;
  if (NODE_ONLY_PACKAGES.includes(packageName) || packageName.startsWith('@img/')) return packageName;
  return undefined;
}

/**
 * Does the package that `importer` belongs to say, in its package.json `browser` field, that `id`
 * is not needed in a browser (`"util": false`)? tfjs does so for the Node modules it only loads
 * when it runs in Node; vite then gives it an empty module, which the package expects.
 */
export function disabledForBrowsersBy(importer: string | undefined, id: string): boolean {
  if (!importer?.includes('/node_modules/')) return false;
  for (let dir = dirname(importer); dir.includes('/node_modules/'); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, browser } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; browser?: unknown };
    if (!name) continue; // a folder's own package.json ({"type": "module"}), not the package's
    return typeof browser === 'object' && browser !== null && (browser as Record<string, unknown>)[id] === false;
  }
  return false;
}

/**
 * Fails the build (and the dev server's transform) on any import of a Node-only module, naming
 * the file that imports it: vite would otherwise replace `node:fs` with an empty stub and let
 * the page break at run time. A dependency that maps the module to nothing for browsers itself
 * (`disabledForBrowsersBy`) has planned for that stub, and is let through.
 */
export function forbidNodeModules(): Plugin {
  return {
    name: 'webgpu-transfer:forbid-node-modules',
    enforce: 'pre',
    resolveId(id, importer) {
      const offender = nodeOnlyModule(id);
      if (offender === undefined || disabledForBrowsersBy(importer, id)) return null;
      const from = importer ? importer.replace(root, '') : 'the entry';
      this.error(`'${offender}' is Node-only and cannot be in the browser bundle (imported by ${from}). Browser code must import src/index.ts, never src/node.ts.`);
    },
  };
}

export default defineConfig(({ mode }) => {
  const shared = { root: webDir, plugins: [forbidNodeModules()], publicDir: false as const };
  if (mode === 'lib') {
    return {
      ...shared,
      build: {
        outDir,
        emptyOutDir: false,
        sourcemap: true,
        target: 'es2022',
        lib: { entry: fileURLToPath(new URL('./src/index.ts', import.meta.url)), formats: ['es' as const], fileName: () => 'webgpu-transfer.js' },
      },
    };
  }
  return {
    ...shared,
    // Which code the pages were built from, for the reports they make (the benchmark page's JSON).
    define: { __WGT_SOURCE__: JSON.stringify(sourceVersion()) },
    // Relative asset addresses: the built pages work from any folder of a site (GitHub Pages' /repo/).
    base: './',
    // The pages import the engine and the shared checks from src/ and test/ by relative path.
    server: { fs: { allow: [root] } },
    build: {
      outDir: `${outDir}/demo`,
      emptyOutDir: true,
      sourcemap: true,
      target: 'es2022',
      rolldownOptions: { input: { demo: `${webDir}/index.html`, tests: `${webDir}/tests.html`, bench: `${webDir}/bench.html` } },
      // tfjs, the benchmark page's peer, is a 0.9 MB chunk of its own, loaded when a run asks for it.
      chunkSizeWarningLimit: 1000,
    },
  };
});

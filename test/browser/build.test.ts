// The browser builds: the engine bundle has no Node-only code in it, the build fails, naming the
// importer, when browser code pulls in a Node-only module, and the type check fails when browser
// code uses a Node global (`process`, `Buffer`), which no import shows.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { disabledForBrowsersBy, forbidNodeModules, nodeOnlyModule } from '../../vite.config.js';
import { DEFAULT_BUNDLE } from '../../src/testing/index.js';
import { configFile, root } from './harness.js';

const scratch = await mkdtemp(join(tmpdir(), 'wgt-build-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Builds `entry` for the browser with only the guard plugin; resolves with the error message, or '' on success. */
async function buildError(entry: string): Promise<string> {
  try {
    await build({
      configFile: false,
      root,
      logLevel: 'silent',
      plugins: [forbidNodeModules()],
      build: { write: false, lib: { entry, formats: ['es'], fileName: 'out' } },
    });
    return '';
  } catch (error) {
    // A failed build's message shows only its first few errors, in no fixed order; all of them
    // are in `errors`.
    const all = (error as { errors?: Error[] }).errors;
    return all?.length ? all.map((e) => e.message).join('\n') : (error as Error).message;
  }
}

describe('the engine bundle (vite build --mode lib, made by global-setup.ts)', () => {
  it('is one ES module with the engine API', async () => {
    const code = await readFile(DEFAULT_BUNDLE, 'utf8');
    for (const name of ['initBrowser', 'matmul', 'backward', 'GpuContext']) expect(code).toMatch(new RegExp(`\\b${name}\\b`));
    expect(code).toMatch(/^export \{/m);
  });

  it('contains no Node-only module or import', async () => {
    const code = await readFile(DEFAULT_BUNDLE, 'utf8');
    // Static imports and re-exports (`import{a}from"x"`, `import"x"`, `export{a}from"x"`) and
    // dynamic `import("x")`; a string that merely contains the word "from" is not an import.
    const importPattern = /(?:^|[;}\s])(?:import\s*(?:[\w$*{][^;"']*?from\s*)?|export\s*(?:\*|\{[^}]*\})\s*from\s*)["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']/g;
    const imports = [...code.matchAll(importPattern)].map((m) => m[1] ?? m[2]!);
    expect(imports).toEqual([]);
    expect(code).not.toMatch(/dawn\.node|__vite-browser-external|node:(fs|child_process|module)|\bsharp\b/);
  });
});

describe('the Node-only guard (forbidNodeModules in vite.config.ts)', () => {
  it.each(['webgpu', 'sharp', 'fs', 'node:fs/promises', 'child_process', 'node:child_process', '@img/sharp-linux-x64', 'puppeteer-core'])(
    "knows '%s' is Node-only",
    (id) => expect(nodeOnlyModule(id)).toBeDefined(),
  );
  it.each(['wgsl_reflect/wgsl_reflect.module.js', './ops/index.js', '../src/index.js', '/abs/path/fs.ts', 'fsevents-free'])("lets '%s' through", (id) =>
    expect(nodeOnlyModule(id)).toBeUndefined(),
  );

  it("lets a dependency's own browser mapping to nothing through (tfjs's `\"util\": false`), and nothing else", () => {
    const tfjsCore = join(root, 'node_modules', '@tensorflow', 'tfjs-core', 'dist', 'platforms', 'platform_node.js');
    expect(disabledForBrowsersBy(tfjsCore, 'util')).toBe(true);
    expect(disabledForBrowsersBy(tfjsCore, 'child_process')).toBe(false); // not in its browser field
    expect(disabledForBrowsersBy(join(root, 'src', 'runtime', 'node-gpu.ts'), 'util')).toBe(false); // our code: never
    expect(disabledForBrowsersBy(undefined, 'util')).toBe(false);
  });

  it('fails a build that imports Dawn through a helper, naming the file that imports it', async () => {
    await writeFile(join(scratch, 'helper.ts'), "import { create } from 'webgpu';\nexport const gpu = () => create([]);\n");
    await writeFile(join(scratch, 'entry.ts'), "export { gpu } from './helper.js';\n");
    const message = await buildError(join(scratch, 'entry.ts'));
    expect(message).toMatch(/'webgpu' is Node-only/);
    expect(message).toMatch(/helper\.ts/);
  });

  it.each([
    ['fs', "import { readFileSync } from 'node:fs'; export const read = readFileSync;"],
    ['child_process', "import { spawn } from 'child_process'; export const run = spawn;"],
    ['sharp', "import sharp from 'sharp'; export const decode = sharp;"],
  ])('fails a build that imports %s', async (name, source) => {
    const entry = join(scratch, `${name}.ts`);
    await writeFile(entry, `${source}\n`);
    expect(await buildError(entry)).toMatch(/is Node-only and cannot be in the browser bundle/);
  });

  it("fails a build of the Node entry (src/node.ts), which is what browser code must never import", async () => {
    expect(await buildError(join(root, 'src', 'node.ts'))).toMatch(/'(webgpu|node:fs)' is Node-only .*runtime\/node-gpu\.ts/);
  });

  it('lets the browser entry (src/index.ts) and the demo pages build', async () => {
    expect(await buildError(join(root, 'src', 'index.ts'))).toBe('');
    const out = join(scratch, 'demo');
    await build({ configFile, mode: 'demo', logLevel: 'silent', build: { outDir: out } });
    for (const page of ['index.html', 'tests.html', 'bench.html']) expect(existsSync(join(out, page)), page).toBe(true);
  });
});

/** Type-checks with tsconfig.browser.json (no Node types), or with a config extending it that checks `files`; the errors, or ''. */
async function browserTypeErrors(files?: string[]): Promise<string> {
  let project = join(root, 'tsconfig.browser.json');
  if (files) {
    project = join(scratch, 'tsconfig.json');
    // Outside the repository: its own root, and type packages found through typeRoots.
    const compilerOptions = { rootDir: scratch, typeRoots: [join(root, 'node_modules')] };
    await writeFile(project, JSON.stringify({ extends: join(root, 'tsconfig.browser.json'), compilerOptions, include: [], files }));
  }
  const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project], { encoding: 'utf8' });
  return tsc.status === 0 ? '' : tsc.stdout + tsc.stderr;
}

describe('Node globals in browser code (tsconfig.browser.json: the browser entry and pages, without Node types)', () => {
  it('the browser entry (src/index.ts) and the demo pages use none', async () => {
    expect(await browserTypeErrors()).toBe('');
  });

  it('a module that uses process or Buffer fails the check, named with the line', async () => {
    const file = join(scratch, 'uses-globals.ts');
    await writeFile(file, "export const mode = process.env.MODE;\nexport const bytes = Buffer.from('a');\n");
    const errors = await browserTypeErrors([file]);
    expect(errors).toMatch(/uses-globals\.ts\(1,\d+\): error TS\d+: Cannot find name 'process'/);
    expect(errors).toMatch(/uses-globals\.ts\(2,\d+\): error TS\d+: Cannot find name 'Buffer'/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

// README.md's library example, run as written but for what it needs from outside: the VGG16
// weights and the Cats and Dogs folder become the demo's small VGG and a few generated images.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wgt-readme-'));
  for (const [k, name] of ['cat', 'dog'].entries()) {
    await mkdir(join(dir, 'images', name), { recursive: true });
    for (let i = 0; i < 5; i++) {
      const pixels = Buffer.alloc(40 * 40 * 3, k === 0 ? 30 * i : 250 - 30 * i);
      await sharp(pixels, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(dir, 'images', name, `${i}.png`));
    }
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('README', () => {
  it('the library example trains as written', async () => {
    const readme = await readFile('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## As a library'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    const substitutions: [string, string][] = [
      ["'webgpu-transfer/node'", `'${resolve('src/node.ts')}'`],
      ['vgg16({ numClasses: 2 })', 'smallVgg({ widths: [16, 32, 64], hidden: 128, numClasses: 2 })'],
      ["'vgg16-397923af.pth'", `'${resolve('assets/demo/source-smallvgg.safetensors')}'`],
      ["'PetImages'", `'${join(dir, 'images')}'`],
      ['outputSize: 224', 'outputSize: 32'],
      ['batchSize: 32', 'batchSize: 4'],
    ];
    let script = code.replace('import { ', 'import { smallVgg, ');
    for (const [from, to] of substitutions) {
      expect(script, `README's example no longer contains ${from}`).toContain(from);
      script = script.replace(from, to);
    }
    const file = join(dir, 'example.mts'); // an ES module: the example awaits at its top level
    await writeFile(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const losses = [...r.stdout.matchAll(/^loss (\S+)$/gm)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(2); // 8 training images of 10, in batches of 4
    for (const loss of losses) expect(loss).toBeGreaterThan(0);
  });
});

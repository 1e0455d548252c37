// Regenerates every figure, table and number of the guide (docs/guide/) on the current code, then
// brings the chapters up to date: their code references from the source, their generated parts
// from generated/. Nothing in a chapter that this script measures is typed by hand.
//
//   npm run guide                       the full runs, into docs/guide (about an hour on lavapipe)
//   npm run guide -- --small            a quick version of every run (CI), into out/guide-small;
//                                       checks that every chapter's fragments and references resolve
//   npm run guide -- --update-only      only bring the chapters up to date with the code and with
//                                       the fragments already in docs/guide/generated
//   options: --out DIR  --weights FILE (the demo's pretrained base)  --only 1,5,7 (chapters)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initNode } from '../../src/node.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import { DEMO_CONFIG, type DemoConfig } from '../../src/demo/experiments.js';
import { DEFAULT_DEMO_WEIGHTS } from '../../src/demo/run-demo.js';
import { GuideOutput, table } from './output.js';
import { updateChapters } from './chapters.js';
import { chapter1 } from './ch1-dispatch.js';
import { chapter2 } from './ch2-autograd.js';
import { chapter3 } from './ch3-conv.js';
import { chapter4 } from './ch4-batchnorm.js';
import { chapter5 } from './ch5-freezing.js';
import { chapter5TrainingCache, chapter5Validation } from './ch5-validation.js';
import { chapter6 } from './ch6-augment.js';
import { chapter7 } from './ch7-recipe.js';
import { chapter8 } from './ch8-profile.js';
import { chapter8Layers } from './ch8-layers.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GUIDE = join(REPO, 'docs', 'guide');

const { values } = parseArgs({
  options: {
    small: { type: 'boolean' },
    out: { type: 'string' },
    weights: { type: 'string' },
    only: { type: 'string' },
    'update-only': { type: 'boolean' },
  },
});
if (values['update-only']) {
  const problems = await updateChapters(GUIDE, join(GUIDE, 'generated'), REPO, true);
  for (const p of problems) console.error(`${relative(REPO, p.chapter)}: ${p.problem}`);
  process.exit(problems.length > 0 ? 1 : 0);
}
const small = Boolean(values.small);
const outDir = resolve(values.out ?? (small ? join(REPO, 'out', 'guide-small') : GUIDE));
if (small && outDir === GUIDE) throw new Error('--small writes smoke-test numbers: give it an --out other than docs/guide');
const only = values.only ? new Set(values.only.split(',').map(Number)) : null;
const wanted = (chapter: number) => !only || only.has(chapter);

/** The full runs, and the small ones that only check that every part works. */
const SIZES = small ? { batch: 4, repeats: 1 } : { batch: 16, repeats: 5 };
const DEMO: DemoConfig = small
  ? { seeds: [1], labelled: 2, validationPerClass: 2, testPerClass: 2, headEpochs: 1, finetuneEpochs: 1, batchSize: 4, lr: DEMO_CONFIG.lr }
  : DEMO_CONFIG;

/**
 * The demo's pretrained base: --weights, the committed file, or (when it is not there yet) one
 * pretrained here by scripts/pretrain-demo.ts and kept under out/guide/.
 */
async function demoWeights(): Promise<{ path: string; note: string }> {
  let path = values.weights ?? DEFAULT_DEMO_WEIGHTS;
  if (!values.weights && !existsSync(path)) {
    path = join(REPO, 'out', 'guide', small ? 'source-smallvgg-smoke.safetensors' : 'source-smallvgg.safetensors');
    if (!existsSync(path)) {
      const args = ['tsx', 'scripts/pretrain-demo.ts', '--out', path, ...(small ? ['--epochs', '1', '--per-class', '10'] : [])];
      console.log(`no ${relative(REPO, DEFAULT_DEMO_WEIGHTS)}: pretraining one (npx ${args.join(' ')})`);
      const run = spawnSync('npx', args, { cwd: REPO, stdio: 'inherit' });
      if (run.status !== 0) throw new Error(`pretraining failed (exit ${run.status})`);
    }
  }
  const file = await openWeightsFile(path);
  const m = file.metadata;
  await file.close();
  return { path, note: `Pretrained base: \`${relative(REPO, path)}\`, made by \`${m.command ?? '?'}\` (source-task validation accuracy ${m.validation_accuracy ?? '?'}, on ${m.adapter ?? '?'}).` };
}

/** The commit the measurements ran on, and whether the working tree differed from it. */
function codeVersion(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: REPO, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD').stdout.trim();
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'scripts').stdout.trim() !== '';
  return head ? `commit ${head}${dirty ? ', with uncommitted changes to src/ or scripts/' : ''}` : 'not a git checkout';
}

const started = performance.now();
const loadBefore = loadavg();
const ctx = await initNode();
const out = new GuideOutput(outDir);
await out.init();
console.log(`guide (${small ? 'small' : 'full'}) into ${relative(REPO, outDir) || '.'}; adapter: ${adapterLabel(ctx.adapter)}`);

const chapters: [number, string, () => Promise<unknown>][] = [
  [1, 'tensor operation to dispatch', () => chapter1(ctx, out, SIZES)],
  [2, 'autograd and pruning', () => chapter2(ctx, out, SIZES)],
  [3, 'conv2d kernels', () => chapter3(ctx, out)],
  [4, 'BatchNorm', () => chapter4(ctx, out, SIZES)],
  [5, 'freezing, measured', async () => {
    await chapter5(ctx, out, SIZES);
    await chapter5Validation(ctx, out, { batch: SIZES.batch, perClass: small ? 2 : 10 });
    await chapter5TrainingCache(ctx, out, { batch: SIZES.batch, perClass: small ? 2 : 10 });
  }],
  [6, 'augmentation', () => chapter6(ctx, out, SIZES)],
  [7, 'the two-phase recipe', async () => {
    const weights = await demoWeights();
    await chapter7(ctx, out, { config: DEMO, weights: weights.path, weightsNote: weights.note });
  }],
  [8, 'profile and trace', async () => {
    await chapter8(ctx, out, SIZES);
    await chapter8Layers(ctx, out, SIZES);
  }],
];
const timings: [string, string][] = [];
for (const [n, name, run] of chapters) {
  if (!wanted(n)) continue;
  const t = performance.now();
  console.log(`chapter ${n}: ${name}`);
  await run();
  timings.push([`${n}. ${name}`, ((performance.now() - t) / 1000).toFixed(0)]);
}

if (!only) {
  const cpu = cpus();
  await out.fragment(
    'environment',
    [
      table(
        ['', ''],
        [
          ['adapter', adapterLabel(ctx.adapter)],
          ['machine', `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}; load average ${loadBefore[0]!.toFixed(1)} when the run began, ${loadavg()[0]!.toFixed(1)} when it ended (other jobs shared the CPU)`],
          ['code', codeVersion()],
          ['Node.js', process.version],
          ['run', `\`npm run guide${small ? ' -- --small' : ''}\`, ${new Date().toISOString().slice(0, 10)}, ${((performance.now() - started) / 60000).toFixed(0)} minutes`],
        ],
      ),
      '',
      table(['chapter', 'seconds'], timings),
    ].join('\n'),
  );
}
ctx.destroy();

const problems = await updateChapters(GUIDE, join(outDir, 'generated'), REPO, outDir === GUIDE);
for (const p of problems) console.error(`${relative(REPO, p.chapter)}: ${p.problem}`);
console.log(`wrote ${out.written.length} files into ${relative(REPO, outDir) || '.'}${outDir === GUIDE ? '; chapters updated' : ''}`);
if (problems.length > 0) process.exitCode = 1;

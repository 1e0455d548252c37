import { readFile } from 'node:fs/promises';
import { COUNT, numberOption, stringOption, UsageError, WHOLE, type Command } from '../command.js';
import { modelOption } from '../model-option.js';
import { initNode, adapterLabel, engineEnvironment } from '../../node.js';
import { describeSourceVersion, sourceVersion } from '../../runtime/source-version.js';
import { Tensor } from '../../autograd/tensor.js';
import { randn } from '../../ops/creation.js';
import { createModel, MODELS } from '../../models/registry.js';
import { freeze, freezeAllButHead, moduleIndex, unfreezeFrom } from '../../models/freeze.js';
import { SGD } from '../../optim/sgd.js';
import { chromeTrace, compareTable, kernelTable, profileSummary, profileTrainStep, type RateOptions, type StepProfile } from '../../train/profile.js';
import { writeChromeTrace, writeKernelSources } from '../../train/profile-node.js';
import { compareLayerTable, layerTable } from '../../train/profile-layers.js';
import { parsePeerLayers, peerLayerTable } from '../../train/peer-layers.js';
import { InputError } from '../../runtime/errors.js';
import { tuneModelKernels } from '../../train/tune-kernels.js';
import { describeTuning } from '../../kernels/conv2d-tuning.js';
import { describeCeilings, measureCeilings } from '../../kernels/ceiling.js';

export const profile: Command = {
  name: 'profile',
  summary: 'Profile a few training steps kernel by kernel (GPU time per kernel, share of the step) and write a Chrome trace.',
  usage: '[--model small_vgg] [--size N] [--batch N] [--frozen | --unfreeze-from PATH] [--compare-frozen] [--layers] [--peer-layers FILE] [--steps N] [--tune-kernels] [--ceiling] [--trace FILE] [--wgsl DIR]',
  help: [
    `  --model NAME      ${Object.keys(MODELS).join(' | ')} (default small_vgg)`,
    '  --size N          input height and width (default 32 for small_vgg; 64 on a software adapter, 224 on a GPU, for the others)',
    '  --batch N         images per step (default 32 for small_vgg, 4 for the others)',
    '  --classes N       classes of the head (default 2)',
    '  --frozen          freeze the base: only the head trains (the transfer step)',
    '  --unfreeze-from PATH  freeze all but the modules from PATH on (e.g. features.24): a partial fine-tune',
    '  --compare-frozen  profile a full fine-tune step and a frozen-base step (or --unfreeze-from\'s), side by side',
    '  --layers          also each layer (module path): time in forward, backward through the data, its parameters\' gradients and',
    '                    update, and the activations it keeps for backward',
    '  --peer-layers FILE  each layer beside another framework\'s time for it alone, with the ratio: the JSON of',
    '                    bench/gpu/torch_steps.py --layers-out (PyTorch, VGG16; its batch and size are the profile\'s)',
    '  --steps N         profiled steps (default 3), after --warmup N unprofiled ones (default 2)',
    '  --counts-only     no timestamp-query, even if the adapter has it: dispatch counts and wall time',
    '  --tune-kernels    on a GPU: time the convolution tiles on each layer first and keep the fastest (as cudnn.benchmark)',
    '  --ceiling         first measure what this adapter does at best (multiply-adds, a copy, a read), and give each GFLOP/s as a share of it',
    '  --trace FILE      Chrome trace to write (default runs/profile/trace.json; chrome://tracing or ui.perfetto.dev)',
    '  --wgsl DIR        also write the WGSL of every kernel compiled, one file each, as generated for these layers and this adapter',
    '  --seed N          initialisation and input seed (default 0)',
    '  --adapter NAME    lavapipe | swiftshader | a substring of the adapter name (default: WGT_ADAPTER)',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    size: { type: 'string' },
    batch: { type: 'string' },
    classes: { type: 'string' },
    frozen: { type: 'boolean' },
    'unfreeze-from': { type: 'string' },
    'compare-frozen': { type: 'boolean' },
    layers: { type: 'boolean' },
    'peer-layers': { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    'counts-only': { type: 'boolean' },
    'tune-kernels': { type: 'boolean' },
    ceiling: { type: 'boolean' },
    trace: { type: 'string' },
    wgsl: { type: 'string' },
    seed: { type: 'string' },
    adapter: { type: 'string' },
  },
  async run(args) {
    const modelName = modelOption(args, 'small_vgg');
    const compare = args.values['compare-frozen'] === true;
    if (compare && args.values.frozen) throw new UsageError('--frozen and --compare-frozen exclude each other');
    const unfreezePath = stringOption(args, 'unfreeze-from');
    if (unfreezePath !== undefined && args.values.frozen) throw new UsageError('--frozen and --unfreeze-from exclude each other');
    const small = modelName === 'small_vgg';
    const batch = numberOption(args, 'batch', small ? 32 : 4, COUNT);
    const classes = numberOption(args, 'classes', 2, COUNT);
    const seed = numberOption(args, 'seed', 0, WHOLE);
    const options = { steps: numberOption(args, 'steps', 3, COUNT), warmup: numberOption(args, 'warmup', 2, WHOLE), timestamps: args.values['counts-only'] !== true };
    const givenSize = args.values.size === undefined ? undefined : numberOption(args, 'size', 0, COUNT);
    const peerFile = stringOption(args, 'peer-layers');
    const peer = peerFile === undefined ? null : parsePeerLayers(JSON.parse(await readFile(peerFile, 'utf8')), peerFile);
    if (peer && peer.model !== modelName) throw new InputError(`${peerFile} times ${peer.model}'s layers; this profile runs ${modelName}: give --model ${peer.model}`);
    const ctx = await initNode({ adapter: stringOption(args, 'adapter') });
    try { // a late refusal (a batch the peer's file lacks, a path the model lacks) frees the GPU too
      const size = givenSize ?? (small ? 32 : ctx.adapter.isSoftware ? 64 : 224);
      if (peer && (peer.batch !== batch || peer.size !== size)) {
        throw new InputError(`${peerFile} times the layers at ${peer.batch}x3x${peer.size}x${peer.size}; this profile runs ${batch}x3x${size}x${size}: give --batch ${peer.batch} --size ${peer.size}`);
      }
      const tracePath = stringOption(args, 'trace') ?? 'runs/profile/trace.json';
      const config = `${modelName}, ${batch}x3x${size}x${size}, ${classes} classes, SGD momentum 0.9`;
      const source = describeSourceVersion(sourceVersion());
      const environment = engineEnvironment(ctx.adapter).join(' ');
      console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
      console.log(`model:   ${config}`);
      console.log(`code:    ${source}${environment ? `; ${environment}` : ''}\n`);

      const model = createModel(modelName, { numClasses: classes, seed }).train();
      if (unfreezePath !== undefined) moduleIndex(model, unfreezePath); // a path the model lacks is refused before anything runs
      const images = randn([batch, 3, size, size], seed + 1, { name: 'images' });
      const labels = Tensor.fromData(ctx, Array.from({ length: batch }, (_, i) => i % classes), [batch], 'int32', 'labels');
      if (args.values['tune-kernels']) {
        for (const line of describeTuning(await tuneModelKernels(model, images))) console.log(`tune-kernels: ${line}`);
        console.log('');
      }
      const ceilings = args.values.ceiling ? await measureCeilings(ctx) : null;
      if (ceilings) console.log(`ceiling: ${describeCeilings(ceilings)}, measured now (src/kernels/ceiling.ts)\n`);
      const rates = ceilings ? { ceilingGflops: ceilings.fmaGflops } : {};
      const profileAs = async (label: string): Promise<StepProfile> => {
        const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
        const result = await profileTrainStep({ ctx, model, optimizer, images, labels }, { ...options, label });
        optimizer.dispose();
        return result;
      };

      // The step with part of the model frozen: the head alone, or the modules from a path on.
      const partial = unfreezePath !== undefined ? 'from' : args.values.frozen || compare ? 'head' : null;
      const profiles: StepProfile[] = [];
      if (partial === null || compare) profiles.push(await profileAs('full fine-tune'));
      if (partial === 'head') {
        freezeAllButHead(model);
        profiles.push(await profileAs('frozen base'));
      } else if (partial === 'from') {
        freeze(model, (name) => name.length > 0);
        unfreezeFrom(model, unfreezePath!);
        profiles.push(await profileAs(`from ${unfreezePath}`));
      }
      for (const p of profiles) console.log(profileSummary(p));
      console.log('');
      console.log(compare ? compareTable(profiles[0]!, profiles[1]!, rates) : kernelTable(profiles[0]!, rates));
      if (args.values.layers) console.log(`\n${layersReport(profiles, rates)}`);
      if (peer) console.log(`\n${profiles[0]!.mode === 'timestamp-query' ? peerLayerTable(profiles[0]!, peer) : 'peer layers: no per-layer times without timestamp-query'}`);
      await writeChromeTrace(tracePath, chromeTrace(profiles, { adapter: ctx.adapter, config, code: source, environment, date: new Date().toISOString() }));
      console.log(`\nwrote ${tracePath}: open it in chrome://tracing or https://ui.perfetto.dev`);
      const wgslDir = stringOption(args, 'wgsl');
      if (wgslDir !== undefined) {
        const written = await writeKernelSources(wgslDir, ctx.pipelines.kernels(), adapterLabel(ctx.adapter));
        console.log(`wrote the WGSL of ${written.length} kernels into ${wgslDir}`);
      }
      images.dispose();
      labels.dispose();
      model.dispose();
    } finally {
      ctx.destroy();
    }
  },
};

/** The per-layer table of one profile, or of two side by side; per-layer times need timestamp-query. */
function layersReport(profiles: readonly StepProfile[], rates: RateOptions): string {
  if (profiles.some((p) => p.mode !== 'timestamp-query')) return 'layers: no per-layer times without timestamp-query (dispatch counts only)';
  const title = 'by layer (ms per step; -: the layer ran none of that work)';
  return `${title}\n${profiles.length === 2 ? compareLayerTable(profiles[0]!, profiles[1]!) : layerTable(profiles[0]!, rates)}`;
}

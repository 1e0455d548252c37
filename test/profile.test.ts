// The kernel profiler on a small VGG: what a full fine-tune step and a frozen-base step run,
// kernel by kernel, the trace file, the fallback without timestamps, and the CLI command.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testContext } from './helpers/gpu.js';
import { randn } from '../src/ops/creation.js';
import { relu, sigmoid } from '../src/ops/elementwise.js';
import { chromeTrace, compareTable, kernelTable, timestampTick, type StepProfile, type TimedDispatch } from '../src/train/profile.js';
import { profileSmallVgg } from './helpers/small-vgg-profile.js';
import { TORCH_PYTHON } from './helpers/fixtures.js';


const dispatchesOf = (p: StepProfile, pattern: RegExp, phase?: string) =>
  p.kernels.filter((k) => pattern.test(k.name) && (!phase || k.phase === phase)).reduce((s, k) => s + k.count, 0);

describe('profileTrainStep', () => {
  it('times every kernel, and a frozen base runs no convolution gradient at all', async () => {
    const ctx = await testContext();
    const compiledBefore = ctx.pipelines.stats.compiled;
    const full = await profileSmallVgg(false, { steps: 2, label: 'full' });
    // The warm-up compiled every kernel the step runs (none was left for the profiled steps): the
    // file's first profile, on a context that has compiled no VGG kernel yet.
    expect(full.warmup.kernelsCompiled).toBeGreaterThan(0);
    expect(full.warmup.kernelsCompiled).toBe(ctx.pipelines.stats.compiled - compiledBefore);
    expect(full.warmup.compileMs).toBeLessThanOrEqual(full.warmup.wallMs);
    const frozen = await profileSmallVgg(true, { steps: 2, label: 'frozen' });
    console.log(compareTable(full, frozen));
    const timed = ctx.hasFeature('timestamp-query');
    for (const p of [full, frozen]) {
      expect(p.mode).toBe(timed ? 'timestamp-query' : 'dispatch-counts');
      expect(p.submitsPerStep).toBe(1);
      expect(p.readbacksPerStep).toBe(0);
      expect(p.buffersCreated).toBe(0);
      expect(p.bindGroupsCreated).toBe(0);
      expect(p.kernelsCompiled).toBe(0);
      expect(p.notes.join(' ')).not.toMatch(/not warm/);
      expect(p.recordMsPerStep).toBeGreaterThan(0);
      expect(p.recordMsPerStep).toBeLessThan(p.wallMsPerStep);
      expect(p.kernels.reduce((s, k) => s + k.count, 0)).toBe(p.dispatchesPerStep);
      if (timed) {
        expect(p.dispatches).toHaveLength(2 * p.dispatchesPerStep);
        expect(p.kernels.reduce((s, k) => s + k.share!, 0)).toBeCloseTo(1, 5);
        for (const d of p.dispatches) expect(d.endNs).toBeGreaterThanOrEqual(d.startNs);
      }
    }
    // Six convolutions: the full step computes their weight and bias gradients, the frozen one none.
    expect(dispatchesOf(full, /^conv2d\.weight_grad/, 'backward')).toBeGreaterThanOrEqual(6);
    expect(dispatchesOf(full, /^conv2d\.bias_grad/, 'backward')).toBe(6);
    expect(dispatchesOf(frozen, /^conv2d/, 'backward')).toBe(0);
    expect(frozen.kernels.filter((k) => k.phase === 'backward' && /convolution/.test(k.role))).toEqual([]);
    // The same forward, phase by phase (bar max-pool indices, kept only when backward needs them).
    expect(dispatchesOf(frozen, /^conv2d\.forward/, 'forward')).toBe(dispatchesOf(full, /^conv2d\.forward/, 'forward'));
    // The optimizer updates the 16 parameters, or the head's 4.
    expect(dispatchesOf(full, /^optim\./, 'optimizer')).toBe(16);
    expect(dispatchesOf(frozen, /^optim\./, 'optimizer')).toBe(4);
    expect(kernelTable(full)).toContain('convolution: weight gradient');
    // Bias gradients of linear layers: one sum per linear layer (two), no other sum called one.
    expect(full.kernels.filter((k) => k.role === 'linear: bias gradient Σdy').reduce((s, k) => s + k.count, 0)).toBe(2);
  });

  it("counts the products' floating-point operations, layer by layer as their shapes say, and their rate", async () => {
    const ctx = await testContext();
    const p = await profileSmallVgg(false, { steps: 2 });
    // smallVgg [4, 8, 8] on 2 images of 16x16: (out pixels, in channels, out channels) of its six
    // 3x3 convolutions, and its two linear layers (128 -> 16 -> 2).
    const convs = [[16 * 16, 3, 4], [16 * 16, 4, 4], [8 * 8, 4, 8], [8 * 8, 8, 8], [4 * 4, 8, 8], [4 * 4, 8, 8]] as const;
    const conv = (layers: readonly (readonly [number, number, number])[]) => layers.reduce((s, [pixels, cin, cout]) => s + 2 * 2 * pixels * cin * cout * 9, 0);
    const linear = 2 * 2 * (128 * 16 + 16 * 2);
    const flopsOf = (pattern: RegExp, phase: string) => p.kernels.filter((k) => pattern.test(k.name) && k.phase === phase).reduce((s, k) => s + (k.flopsPerStep ?? 0), 0);
    expect(flopsOf(/^conv2d\.forward/, 'forward')).toBe(conv(convs));
    expect(flopsOf(/^conv2d\.input_grad/, 'backward')).toBe(conv(convs.slice(1))); // none into the images
    expect(flopsOf(/^conv2d\.weight_grad/, 'backward')).toBe(conv(convs));
    expect(flopsOf(/^matmul\.\w+\.NT/, 'forward')).toBe(linear);
    expect(flopsOf(/^matmul\.\w+\.TN/, 'backward')).toBe(linear);
    expect(flopsOf(/^matmul\.\w+\.NN/, 'backward')).toBe(linear);
    // Only the products are counted; a rate wherever the clock saw them take time.
    for (const k of p.kernels) {
      expect(k.flopsPerStep !== null, k.name).toBe(/^(conv2d\.(forward|input_grad|weight_grad)\.(winograd\.)?(blocked|tiled)|matmul\.\w+\.(NT|TN|NN))/.test(k.name));
      if (k.flopsPerStep !== null && ctx.hasFeature('timestamp-query') && k.msPerStep! > 0) expect(k.gflops).toBeCloseTo((k.flopsPerStep / (k.msPerStep! * 1e6)), 6);
    }
    expect(kernelTable(p).split('\n')[0]).toMatch(/share +GFLOP\/s$/);
  });

  it('times dispatches recorded but not yet submitted when profiling stops', async () => {
    const ctx = await testContext();
    if (!ctx.hasFeature('timestamp-query')) return;
    const x = randn([64], 3);
    ctx.startProfiling();
    const y = relu(x); // recorded, not flushed
    const timings = await ctx.stopProfiling();
    expect(timings.map((t) => t.name)).toEqual(['unary.relu']);
    expect(timings[0]!.endNs).toBeGreaterThanOrEqual(timings[0]!.startNs);
    for (const t of [x, y]) t.dispose();
  });

  it('times only what ran: a dry run while profiling (recorded, then dropped) leaves no timings', async () => {
    const ctx = await testContext();
    if (!ctx.hasFeature('timestamp-query')) return;
    const x = randn([64], 3);
    ctx.startProfiling();
    ctx.recorder.dryRun = true;
    const dropped = sigmoid(x);
    ctx.recorder.flush();
    ctx.recorder.dryRun = false;
    const y = relu(x);
    const timings = await ctx.stopProfiling();
    expect(timings.map((t) => t.name)).toEqual(['unary.relu']);
    for (const t of [x, dropped, y]) t.dispose();
  });

  it('writes a Chrome trace: one process per profile, a phase track and a kernel track', async () => {
    const ctx = await testContext();
    const p = await profileSmallVgg(false, { steps: 1, label: 'full' });
    const trace = JSON.parse(JSON.stringify(chromeTrace([p, { ...p, label: 'again' }], { adapter: ctx.adapter.description })));
    const names = trace.traceEvents.filter((e: { name: string }) => e.name === 'process_name').map((e: { args: { name: string } }) => e.args.name);
    expect(names).toEqual(['full', 'again']);
    if (!ctx.hasFeature('timestamp-query')) return;
    const kernels = trace.traceEvents.filter((e: { ph: string; tid: number; pid: number }) => e.ph === 'X' && e.tid === 2 && e.pid === 1);
    expect(kernels).toHaveLength(p.dispatchesPerStep);
    const phases = trace.traceEvents.filter((e: { ph: string; tid: number; pid: number }) => e.ph === 'X' && e.tid === 1 && e.pid === 1);
    expect(phases.map((e: { name: string }) => e.name)).toEqual(['step 1 forward', 'step 1 backward', 'step 1 optimizer']);
    for (const e of kernels) expect(e.dur).toBeGreaterThanOrEqual(0);
  });

  it('says when the profiled steps were not warm (buffers, bind groups or kernels created while profiling)', async () => {
    const p = await profileSmallVgg(false, { steps: 1, warmup: 0 });
    expect(p.buffersCreated + p.bindGroupsCreated).toBeGreaterThan(0);
    expect(p.warmup).toEqual({ steps: 0, wallMs: expect.any(Number), kernelsCompiled: 0, compileMs: 0 });
    expect(p.notes.join(' ')).toMatch(new RegExp(`not warm: ${p.buffersCreated} buffer\\(s\\), ${p.bindGroupsCreated} bind group\\(s\\) and ${p.kernelsCompiled} kernel`));
  });

  it("finds the timestamps' resolution and notes a coarse one (lavapipe's moves in 65.5 µs steps)", async () => {
    const at = (startNs: number, endNs: number): TimedDispatch => ({ step: 1, index: 0, phase: 'forward', name: 'k', startNs, endNs });
    expect(timestampTick([at(0, 131_072), at(131_072, 131_072), at(196_608, 327_680)])).toBe(65_536);
    expect(timestampTick([at(0, 1_000_003), at(1_000_010, 2_000_000)])).toBe(7);
    expect(timestampTick([at(5, 5)])).toBeNull();
    const p = await profileSmallVgg(false, { steps: 2 });
    if (p.mode === 'timestamp-query') {
      const tick = timestampTick(p.dispatches)!;
      console.log(`timestamps on this adapter: steps of ${tick} ns or finer`);
      expect(p.notes.some((n) => /timestamps move in steps of/.test(n))).toBe(tick >= 1000);
    }
  });

  it('falls back to dispatch counts without timestamps, and says so', async () => {
    const p = await profileSmallVgg(true, { steps: 1, timestamps: false });
    expect(p.mode).toBe('dispatch-counts');
    expect(p.gpuMsPerStep).toBeNull();
    expect(p.kernels.every((k) => k.msPerStep === null && k.count > 0)).toBe(true);
    expect(p.dispatches).toEqual([]);
    expect(p.notes.join(' ')).toMatch(/dispatch counts/);
    expect(p.wallMsPerStep).toBeGreaterThan(0);
  });
});

describe('webgpu-transfer profile', () => {
  it('prints frozen and full side by side, layer by layer too, rates as shares of the measured ceiling, and writes the trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wgt-profile-'));
    const trace = join(dir, 'trace.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'profile', '--size', '16', '--batch', '2', '--compare-frozen', '--layers', '--steps', '1', '--warmup', '1', '--ceiling', '--trace', trace, '--wgsl', join(dir, 'wgsl')], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/full fine-tune: n/);
    expect(r.stdout).toMatch(/frozen base: n/);
    expect(r.stdout).toMatch(/^ceiling: [\d.]+ GFLOP\/s of multiply-adds, [\d.]+ GB\/s copying, [\d.]+ GB\/s reading, measured now/m);
    expect(r.stdout).toMatch(/full fine-tune: n +ms +GFLOP\/s \(of ceiling\) +frozen base: n/);
    if (/timestamp-query/.test(r.stdout)) expect(r.stdout).toMatch(/conv2d\.forward\S*\s+convolution[^\n]*\d \([\d.]+%\)/);
    expect(r.stdout).toMatch(/conv2d\.weight_grad\S*\s+convolution: weight gradient\s+\d+\s+\S+\s+0\s+-/);
    if (/timestamp-query/.test(r.stdout)) {
      // By layer: the first convolution computes its parameters' gradients in the full step; frozen, its forward alone.
      expect(r.stdout).toMatch(/^layer +module +full fine-tune: fwd +bwd data +bwd params +update +total +saved +frozen base: fwd +bwd data +bwd params +update +total +saved$/m);
      // ... and keeps an activation for backward there, frozen none.
      expect(r.stdout).toMatch(/^features\.0 +Conv2d \+ ReLU( +[\d.]+){5} +[\d.]+ [KM]iB +[\d.]+ +- +- +- +[\d.]+ +-$/m);
    }
    // The figures name the code they came from, in the output and in the trace.
    const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' });
    const commit = head.status === 0 ? head.stdout.trim() : 'unknown';
    expect(r.stdout).toMatch(new RegExp(`^code: +webgpu-transfer \\d+\\.\\d+\\.\\d+, commit ${commit}`, 'm'));
    const written = JSON.parse(await readFile(trace, 'utf8'));
    expect(written.traceEvents.length).toBeGreaterThan(10);
    expect(written.otherData.code).toContain(`commit ${commit}`);
    // The warm-up's first compiles, and the WGSL of every kernel compiled, as run.
    expect(r.stdout).toMatch(/^ {2}warm-up: 1 step\(s\) first, [\d.]+ ms, [\d.]+ of them in createComputePipeline for the [1-9]\d* kernel\(s\) first used/m);
    const count = Number(/wrote the WGSL of (\d+) kernels into /.exec(r.stdout)?.[1]);
    const files = (await readdir(join(dir, 'wgsl'))).sort();
    expect(files).toHaveLength(count);
    expect(files[0]).toMatch(/^0*1-[\w.]+\.wgsl$/);
    const convolution = files.find((f) => /conv2d\.forward/.test(f));
    expect(convolution).toBeDefined();
    const code = await readFile(join(dir, 'wgsl', convolution!), 'utf8');
    expect(code).toMatch(/^\/\/ conv2d\.forward\S*: workgroup size \d+x\d+x\d+\n\/\/ createComputePipeline took [\d.]+ ms on /);
    expect(code).toContain('@compute');
    await rm(dir, { recursive: true, force: true });
  });

  it('profiles a partial fine-tune (--unfreeze-from): the layers below the path run their forward alone', () => {
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'profile', '--size', '16', '--batch', '2', '--steps', '1', '--warmup', '1', '--layers', '--trace', join(tmpdir(), 'wgt-unfreeze-trace.json'), ...extra], { encoding: 'utf8', timeout: 300_000 });
    const r = run('--unfreeze-from', 'features.10');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^from features\.10: 1 step\(s\) profiled/m);
    if (/timestamp-query/.test(r.stdout)) {
      expect(r.stdout).toMatch(/^features\.7 +Conv2d \+ ReLU +[\d.]+ +- +- +- +[\d.]+ /m);
      expect(r.stdout).toMatch(/^features\.10 +Conv2d \+ ReLU( +[\d.]+){4} /m);
    }
    const bad = run('--unfreeze-from', 'features.99');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/no module 'features\.99'; its modules with parameters are .*features\.10/);
    expect(bad.stdout).not.toMatch(/profiled/);
  });

  it("--peer-layers: VGG16's layers beside PyTorch's (CPU here), each timed alone by bench/gpu/torch_steps.py", () => {
    const layers = join(tmpdir(), 'wgt-torch-layers.json');
    const torch = spawnSync(TORCH_PYTHON, ['bench/gpu/torch_steps.py', '--device', 'cpu', '--layers-only', '--layers-out', layers, '--layers-batch', '1', '--layers-size', '32', '--reps', '1'], { encoding: 'utf8', timeout: 300_000 });
    expect(torch.status, `is python3-torch installed? ${torch.stderr}`).toBe(0);
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'profile', '--steps', '1', '--warmup', '1', '--peer-layers', layers, '--trace', join(tmpdir(), 'wgt-peer-trace.json'), ...extra], { encoding: 'utf8', timeout: 300_000 });
    const r = run('--model', 'vgg16', '--size', '32', '--batch', '1');
    expect(r.status, r.stderr).toBe(0);
    if (/timestamp-query/.test(r.stdout)) {
      expect(r.stdout).toMatch(/^full fine-tune, layer by layer beside PyTorch [\d.a-z]+ on CPU \(cpu, fp32, TF32 off\)/m);
      // The first layer computes no gradient for the batch, in PyTorch's run as in ours (whose data column holds its ReLU's).
      expect(r.stdout).toMatch(/^features\.0 +[\d.]+ +[\d.]+ +[\d.]+x +[\d.]+ +- +- +[\d.]+ +[\d.]+ +[\d.]+x$/m);
      for (const layer of ['features.28', 'classifier.0', 'classifier.6']) expect(r.stdout).toMatch(new RegExp(`^${layer.replace('.', '\\.')}( +[\\d.]+x?){9}$`, 'm'));
      expect(r.stdout).toMatch(/^\(these layers\)( +[\d.]+x?){9}$/m);
    }
    // Another shape or another model: refused before anything is profiled, saying what would match.
    const shape = run('--model', 'vgg16', '--size', '32', '--batch', '2');
    expect(shape.status).toBe(1);
    expect(shape.stderr).toMatch(/times the layers at 1x3x32x32; this profile runs 2x3x32x32: give --batch 1 --size 32/);
    const model = run('--model', 'resnet18', '--size', '32', '--batch', '1');
    expect(model.status).toBe(1);
    expect(model.stderr).toMatch(/times vgg16's layers; this profile runs resnet18: give --model vgg16/);
    expect(`${shape.stdout}${model.stdout}`).not.toMatch(/profiled/);
  });

  it('refuses contradictory options with the usage', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'profile', '--frozen', '--compare-frozen'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/exclude each other/);
    const both = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'profile', '--frozen', '--unfreeze-from', 'features.10'], { encoding: 'utf8', timeout: 120_000 });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--frozen and --unfreeze-from exclude each other/);
  });
});

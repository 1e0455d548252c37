// Matmul GFLOP/s: each of our kernels next to tfjs-backend-webgpu, same adapter, same process.
//   npx tsx bench/matmul.ts [--quick] [--shapes=square|fc|all] [--max-gflop=X]   (WGT_ADAPTER=lavapipe|swiftshader)
// --quick: 3 rounds instead of 5, and no 'simple' beyond 2^28 multiply-adds.
// --max-gflop skips products of more than X GFLOP (SwiftShader runs VGG16's fc6 at batch 32 for minutes).
//
// 'planned' is what the engine runs by default (planGemm's kernel and split-K); the others force
// a kernel. Contestants take turns: every round times each of them once, after one untimed warm-up run
// (which compiles the pipeline), and the best round counts. Two figures per contestant:
//   wall - GFLOP per second of wall clock;
//   cpu  - GFLOP per second of this process's CPU time (user + system, all threads). On a
//          software adapter the kernels run on this process's threads, so this figure moves
//          much less (+-20% seen) than wall clock (2x and more) when other jobs load the
//          machine. On SwiftShader it also counts the time its worker threads spin waiting.
// Compare figures from the same run only.
//
// Results, 2026-11-27, 2-core x86-64 (AVX-512) shared with other jobs (load average 15-20).
// GFLOP/s as wall / per CPU-second. fc6: x·Wᵀ = Bx25088·(4096x25088)ᵀ, fc7: Bx4096·(4096x4096)ᵀ
// at batch B; dW: the weight gradient gᵀ·x = (4x4096)ᵀ·(4xIN), K = 4. splitK8: blocked with K in
// 8 ranges. "fails": tfjs binds the whole 411 MB weight (or result), over lavapipe's 128 MiB.
//
// lavapipe (Mesa 25.0.7, LLVM 15), 5 rounds:
// | shape       | simple      | blocked     | splitK8     | tiled       | tfjs        | blocked/tfjs |
// |-------------|-------------|-------------|-------------|-------------|-------------|--------------|
// | 256^3       | 0.10 / 0.33 | 1.03 / 2.80 |             | 0.32 / 1.12 | 0.47 / 1.56 | 2.2 / 1.8    |
// | 512^3       | 0.05 / 0.24 | 0.48 / 2.26 |             | 0.15 / 0.84 | 0.26 / 1.32 | 1.8 / 1.7    |
// | 1024^3      | 0.06 / 0.18 | 0.68 / 2.37 |             | 0.24 / 0.84 | 0.47 / 1.19 | 1.4 / 2.0    |
// | fc6, B=4    | 0.10 / 0.29 | 0.40 / 1.18 | 0.40 / 1.01 |             | fails       |              |
// | fc6, B=32   | 0.10 / 0.30 | 0.75 / 2.24 | 0.80 / 2.16 |             | fails       |              |
// | fc7, B=4    | 0.07 / 0.34 | 0.25 / 1.13 | 0.20 / 1.15 | 0.02 / 0.06 | 0.05 / 0.21 | 5.3 / 5.4    |
// | fc7, B=32   | 0.07 / 0.28 | 0.57 / 1.71 | 0.72 / 2.11 |             | 0.28 / 0.86 | 2.0 / 2.0    |
// | fc7 dW, B=4 | 0.05 / 0.16 | 0.44 / 1.40 |             | 0.05 / 0.14 | 0.05 / 0.16 | 8.7 / 8.9    |
// | fc6 dW, B=4 | 0.07 / 0.14 | 0.87 / 1.26 |             | 0.08 / 0.13 | fails       |              |
//
// 2026-11-29, lavapipe, --shapes=fc --quick: a linear layer's input gradient dy·W (B plain).
// planned: the engine's choice, K in ranges of 128 rows (planGemm); blocked: K whole.
// | shape          | planned     | blocked     | splitK8      | skinny      | tfjs        |
// | fc6 dy·W, B=4  | 6.41 / 3.38 | 5.21 / 2.72 | 6.60 / 3.40  | 3.29 / 1.73 | fails       |
// | fc7 dy·W, B=4  | 8.53 / 4.76 | 7.03 / 3.79 | 10.40 / 5.78 | 5.11 / 3.93 | 1.04 / 0.53 |
//
// SwiftShader 5.0.0, 3 rounds (its 1 GiB bindings take fc6's weight whole; fc rows: another run):
// | shape       | simple      | blocked     | splitK8     | tiled       | tfjs        | blocked/tfjs |
// |-------------|-------------|-------------|-------------|-------------|-------------|--------------|
// | 256^3       | 0.01 / 0.04 | 0.08 / 0.20 |             | 0.04 / 0.09 | 0.04 / 0.11 | 2.0 / 1.9    |
// | 512^3       | 0.01 / 0.04 | 0.09 / 0.18 |             | 0.06 / 0.11 | 0.04 / 0.10 | 2.0 / 1.8    |
// | 1024^3      |             | 0.08 / 0.18 |             | 0.05 / 0.11 | 0.06 / 0.13 | 1.4 / 1.4    |
// | fc6, B=4    |             | 0.035/0.076 | 0.046/0.105 |             | 0.007/0.018 | 5.0 / 4.2    |
// | fc7, B=4    | 0.012/0.030 | 0.030/0.065 | 0.030/0.072 | 0.002/0.006 | 0.008/0.019 | 3.8 / 3.4    |
import { initNode, adapterLabel, tensor, type Tensor } from '../src/node.js';
import { runGemm, type GemmOptions } from '../src/kernels/matmul.js';
import { gflops } from './util/timing.js';
import { randomArray } from './peers/tfjs.js';
import { initTfjsWebGPU } from './peers/tfjs-node.js';

const quick = process.argv.includes('--quick');
const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const which = option('shapes') ?? 'all';
const maxFlop = Number(option('max-gflop') ?? Infinity) * 1e9;
const ctx = await initNode();
const peer = await initTfjsWebGPU();
console.log(`adapter: ${adapterLabel(ctx.adapter)}; tfjs-backend-webgpu ${peer.tfjsVersion}`);
const rounds = quick ? 3 : 5;

interface Shape {
  label: string;
  m: number;
  k: number;
  n: number;
  /** A stored [K, M], read transposed in place (a linear layer's weight gradient: gᵀ·x). */
  transA: boolean;
  /** B stored [N, K] (PyTorch's Linear weight), read transposed in place. */
  transB: boolean;
}
const square = (s: number): Shape => ({ label: `${s}^3`, m: s, k: s, n: s, transA: false, transB: false });
// Forward of a linear layer, x·Wᵀ, and its weight gradient gᵀ·x (K = batch).
const fc = (m: number, k: number, n: number, what: string): Shape => ({ label: `${m}x${k}·(${n}x${k})ᵀ ${what}`, m, k, n, transA: false, transB: true });
const fcGrad = (m: number, k: number, n: number, what: string): Shape => ({ label: `(${k}x${m})ᵀ·${k}x${n} ${what}`, m, k, n, transA: true, transB: false });
// Its input gradient dy·W: the weight as stored ([out, in]) is a plain B.
const fcInputGrad = (m: number, k: number, n: number, what: string): Shape => ({ label: `${m}x${k}·${k}x${n} ${what}`, m, k, n, transA: false, transB: false });
const allShapes: Shape[] = [
  ...(which === 'fc' ? [] : [square(256), square(512), square(1024)]),
  ...(which === 'square'
    ? []
    : [
        fc(4, 25088, 4096, 'VGG16 fc6, batch 4 (411 MB weight)'),
        fc(32, 25088, 4096, 'VGG16 fc6, batch 32'),
        fc(4, 4096, 4096, 'VGG16 fc7, batch 4'),
        fc(32, 4096, 4096, 'VGG16 fc7, batch 32'),
        fcInputGrad(4, 4096, 25088, 'VGG16 fc6 input gradient dy·W, batch 4'),
        fcInputGrad(4, 4096, 4096, 'VGG16 fc7 input gradient dy·W, batch 4'),
        fcGrad(4096, 4, 4096, 'VGG16 fc7 weight gradient, batch 4'),
        fcGrad(4096, 4, 25088, 'VGG16 fc6 weight gradient, batch 4 (411 MB result)'),
      ]),
];
const shapes = allShapes.filter((s) => 2 * s.m * s.n * s.k <= maxFlop);

interface Contestant {
  name: string;
  /** Records one product; `sync` waits for it. */
  run: () => void;
  sync: () => Promise<void>;
}

interface Figures {
  wall: number;
  cpu: number;
}

/** Best of `rounds` turns per contestant, interleaved; an error string for one that failed. */
async function race(contestants: Contestant[], flops: number): Promise<Record<string, Figures | string>> {
  const best: Record<string, { wall: number; cpu: number } | string> = {};
  for (const c of contestants) {
    try {
      c.run();
      await c.sync();
      best[c.name] = { wall: Infinity, cpu: Infinity };
    } catch (e) {
      best[c.name] = `error: ${(e as Error).message.split('\n')[0]!.slice(0, 70)}`;
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of contestants) {
      const record = best[c.name];
      if (typeof record !== 'object') continue;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      c.run();
      await c.sync();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      record.wall = Math.min(record.wall, wall);
      record.cpu = Math.min(record.cpu, (cpu.user + cpu.system) / 1000);
    }
  }
  const out: Record<string, Figures | string> = {};
  for (const [name, r] of Object.entries(best)) out[name] = typeof r === 'string' ? r : { wall: gflops(flops, r.wall), cpu: gflops(flops, r.cpu) };
  return out;
}

function ours(name: string, a: Tensor, b: Tensor, options: GemmOptions): Contestant {
  return { name, run: () => runGemm(a, b, options).dispose(), sync: () => ctx.recorder.sync() };
}

/** tfjs on the same layout. Its first run is checked for WebGPU errors, which tfjs lets pass silently. */
async function tfjs(peerData: { a: Float32Array; b: Float32Array }, shape: Shape): Promise<Contestant & { dispose(): void }> {
  const { tf, device } = peer;
  const a = tf.tensor2d(peerData.a, shape.transA ? [shape.k, shape.m] : [shape.m, shape.k]);
  const b = tf.tensor2d(peerData.b, shape.transB ? [shape.n, shape.k] : [shape.k, shape.n]);
  const run = () => tf.matMul(a, b, shape.transA, shape.transB).dispose();
  device.pushErrorScope('validation');
  run();
  await peer.sync();
  const error = await device.popErrorScope();
  return {
    name: 'tfjs',
    run: error
      ? () => {
          throw new Error(error.message);
        }
      : run,
    sync: peer.repeatedSync(),
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

type Row = { shape: Shape; results: Record<string, Figures | string> };
const rows: Row[] = [];
for (const shape of shapes) {
  const { m, k, n, transA, transB } = shape;
  const data = { a: randomArray(m * k, 7), b: randomArray(k * n, 11) };
  const a = tensor(data.a, transA ? [k, m] : [m, k]);
  const b = tensor(data.b, transB ? [n, k] : [k, n], { name: 'B' });
  const big = m * n * k > 2 ** 28;
  const contestants: Contestant[] = [
    ours('planned', a, b, { transA, transB }), // what the engine runs: planGemm's kernel and split
    // The kernels alone, K not split (a forced kernel would keep the plan's split).
    ...(big && quick ? [] : [ours('simple', a, b, { transA, transB, variant: 'simple', splitK: 1 })]),
    ours('blocked', a, b, { transA, transB, variant: 'blocked', splitK: 1 }),
    ...(m < 64 ? [ours('blocked+splitK8', a, b, { transA, transB, variant: 'blocked', splitK: 8 })] : []),
    ...(m <= 8 ? [ours('skinny', a, b, { transA, transB, variant: 'skinny', splitK: 1 })] : []),
    // 'tiled' on a tall-skinny product: one row of 64x64 tiles, minutes on a CPU adapter.
    ...(big && m < 64 ? [] : [ours('tiled', a, b, { transA, transB, variant: 'tiled', splitK: 1 })]),
  ];
  const peerRun = await tfjs(data, shape);
  contestants.push(peerRun);
  const results = await race(contestants, 2 * m * n * k);
  peerRun.dispose();
  a.dispose();
  b.dispose();
  ctx.pool.trim();
  rows.push({ shape, results });
  console.log(shape.label, JSON.stringify(results, (_, v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v)));
}

const names = [...new Set(rows.flatMap((r) => Object.keys(r.results)))];
const cell = (v: Figures | string | undefined) => (v === undefined ? '-' : typeof v === 'string' ? v : `${v.wall.toFixed(2)} / ${v.cpu.toFixed(2)}`);
console.log(`\n## matmul GFLOP/s (wall / per CPU-second), ${adapterLabel(ctx.adapter)}, tfjs-backend-webgpu ${peer.tfjsVersion}\n`);
console.log(`| shape | ${names.join(' | ')} | best ours / tfjs (wall, cpu) |`);
console.log(`|---|${names.map(() => '---|').join('')}---|`);
for (const { shape, results } of rows) {
  const ourFigures = Object.entries(results).filter((e): e is [string, Figures] => e[0] !== 'tfjs' && typeof e[1] === 'object').map((e) => e[1]);
  const peerFigures = results.tfjs;
  const ratio =
    typeof peerFigures === 'object' && ourFigures.length
      ? `${(Math.max(...ourFigures.map((f) => f.wall)) / peerFigures.wall).toFixed(2)}, ${(Math.max(...ourFigures.map((f) => f.cpu)) / peerFigures.cpu).toFixed(2)}`
      : '-';
  console.log(`| ${shape.label} | ${names.map((nm) => cell(results[nm])).join(' | ')} | ${ratio} |`);
}


// Chapter 3: conv2d forward, input gradient and weight gradient. Each of the engine's three
// kernels against the definitions computed on the CPU in float64, index by index, for a stride-1
// and a stride-2 convolution, one output of each gradient written out term by term, and the
// WGSL the kernels were generated as for the stride-1 case.
import type { GpuContext } from '../../src/runtime/context.js';
import type { KernelSource } from '../../src/runtime/pipelines.js';
import { tidy } from '../../src/autograd/scope.js';
import { randn } from '../../src/ops/creation.js';
import { conv2d } from '../../src/ops/conv.js';
import { backward } from '../../src/ops/grad.js';
import { normalValues } from '../../src/ops/creation.js';
import { captureKernels, kernelDelta } from './common.js';
import { code, sig, table, type GuideOutput } from './output.js';

interface Case {
  name: string;
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  k: number;
  stride: number;
  pad: number;
}

const CASES: Case[] = [
  { name: '3×3, stride 1, padding 1', n: 2, c: 3, h: 7, w: 7, o: 4, k: 3, stride: 1, pad: 1 },
  { name: '3×3, stride 2, padding 1', n: 2, c: 3, h: 7, w: 7, o: 4, k: 3, stride: 2, pad: 1 },
];

/** The three definitions, in float64, with plain loops (the chapter's formulas, literally). */
function reference(cs: Case, x: Float32Array, wt: Float32Array, b: Float32Array, dy: Float32Array) {
  const { n, c, h, w, o, k, stride, pad } = cs;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const X = (i: number, ci: number, r: number, s: number) => (r < 0 || s < 0 || r >= h || s >= w ? 0 : x[((i * c + ci) * h + r) * w + s]!);
  const W = (co: number, ci: number, a: number, bb: number) => wt[((co * c + ci) * k + a) * k + bb]!;
  const DY = (i: number, co: number, r: number, s: number) => dy[((i * o + co) * oh + r) * ow + s]!;
  const y = new Float64Array(n * o * oh * ow);
  const dx = new Float64Array(n * c * h * w);
  const dw = new Float64Array(o * c * k * k);
  const db = new Float64Array(o);
  for (let i = 0; i < n; i++)
    for (let co = 0; co < o; co++)
      for (let r = 0; r < oh; r++)
        for (let s = 0; s < ow; s++) {
          let acc = b[co]!;
          for (let ci = 0; ci < c; ci++)
            for (let a = 0; a < k; a++)
              for (let bb = 0; bb < k; bb++) {
                const xr = r * stride - pad + a;
                const xs = s * stride - pad + bb;
                acc += W(co, ci, a, bb) * X(i, ci, xr, xs);
                // The same term, read from the other side: how much y moves with x and with w.
                if (xr >= 0 && xs >= 0 && xr < h && xs < w) dx[((i * c + ci) * h + xr) * w + xs]! += DY(i, co, r, s) * W(co, ci, a, bb);
                dw[((co * c + ci) * k + a) * k + bb]! += DY(i, co, r, s) * X(i, ci, xr, xs);
              }
          y[((i * o + co) * oh + r) * ow + s] = acc;
          db[co]! += DY(i, co, r, s);
        }
  return { y, dx, dw, db, oh, ow };
}

const maxError = (gpu: Float32Array, ref: Float64Array) => gpu.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0);
const maxAbs = (ref: Float64Array) => ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export async function chapter3(ctx: GpuContext, out: GuideOutput): Promise<void> {
  const kernels = captureKernels(ctx);
  const rows: (string | number)[][] = [];
  let worked = '';
  let sources: KernelSource[] = [];
  for (const [index, cs] of CASES.entries()) {
    kernels.clear();
    const xData = normalValues(cs.n * cs.c * cs.h * cs.w, 11 + index);
    const wData = normalValues(cs.o * cs.c * cs.k * cs.k, 21 + index, 0, 0.3);
    const bData = normalValues(cs.o, 31 + index);
    const x = randn([cs.n, cs.c, cs.h, cs.w], 11 + index, { ctx, requiresGrad: true });
    const weight = randn([cs.o, cs.c, cs.k, cs.k], 21 + index, { ctx, requiresGrad: true, std: 0.3 });
    const bias = randn([cs.o], 31 + index, { ctx, requiresGrad: true });
    ctx.recorder.flush();
    const before = new Map(ctx.recorder.stats.perKernel);
    const { y, dyData } = tidy(() => {
      const y = conv2d(x, weight, bias, { stride: cs.stride, padding: cs.pad });
      const dyData = normalValues(y.size, 41 + index);
      const dy = randn(y.shape, 41 + index, { ctx });
      backward(y, dy); // dL/dy = dy: the gradients are then exactly the chapter's sums
      return { y, dyData };
    });
    const dispatched = kernelDelta(before, ctx.recorder.stats.perKernel);
    const [yGpu, dxGpu, dwGpu, dbGpu] = (await Promise.all([y.read(), x.grad!.read(), weight.grad!.read(), bias.grad!.read()])) as Float32Array[];
    const ref = reference(cs, xData, wData, bData, dyData);
    for (const [what, gpu, r, kernel] of [
      ['y (forward)', yGpu, ref.y, 'conv2d.forward'],
      ['dx (input gradient)', dxGpu, ref.dx, 'conv2d.input_grad'],
      ['dw (weight gradient)', dwGpu, ref.dw, 'conv2d.weight_grad'],
      ['db (bias gradient)', dbGpu, ref.db, 'conv2d.bias_grad'],
    ] as const) {
      const names = [...dispatched.keys()].filter((k) => k.startsWith(kernel));
      rows.push([cs.name, what, `\`${names.join('`, `')}\``, gpu!.length, sig(maxAbs(r)), sig(maxError(gpu!, r), 2)]);
    }
    if (index === 0) {
      sources = [...kernels.values()].filter((s) => s.name.startsWith('conv2d.'));
      // One element of each gradient, written out as the sum it is.
      const { c, h, w, k, pad } = cs;
      const [ci, r, s] = [1, 0, 3];
      const terms: string[] = [];
      let dxSum = 0;
      for (let co = 0; co < cs.o; co++)
        for (let a = 0; a < k; a++)
          for (let bb = 0; bb < k; bb++) {
            const yr = r + pad - a;
            const ys = s + pad - bb;
            if (yr < 0 || ys < 0 || yr >= ref.oh || ys >= ref.ow) continue;
            const dyv = dyData[((0 * cs.o + co) * ref.oh + yr) * ref.ow + ys]!;
            const wv = wData[((co * c + ci) * k + a) * k + bb]!;
            dxSum += dyv * wv;
            terms.push(`dy[0,${co},${yr},${ys}]·w[${co},${ci},${a},${bb}]`);
          }
      const at = ((0 * c + ci) * h + r) * w + s;
      const [co2, ci2, a2, b2] = [2, 0, 0, 2];
      let dwTerms = 0;
      for (let i = 0; i < cs.n; i++)
        for (let yr = 0; yr < ref.oh; yr++)
          for (let ys = 0; ys < ref.ow; ys++) {
            const xr = yr - pad + a2;
            const xs = ys - pad + b2;
            if (xr >= 0 && xs >= 0 && xr < h && xs < w) dwTerms++;
          }
      const dwAt = ((co2 * c + ci2) * k + a2) * k + b2;
      worked = [
        `For the ${cs.name} case (x [${cs.n}, ${c}, ${h}, ${w}], w [${cs.o}, ${c}, ${k}, ${k}], y [${cs.n}, ${cs.o}, ${ref.oh}, ${ref.ow}]):`,
        '',
        `- \`dx[0,${ci},${r},${s}]\` (a pixel on the top edge) is a sum of ${terms.length} terms, the output pixels whose window covers it: ` +
          `${terms.slice(0, 4).join(' + ')}${terms.length > 4 ? ' + …' : ''}. On the CPU: ${sig(dxSum, 6)}; the \`conv2d.input_grad\` kernel wrote ${sig(dxGpu![at]!, 6)}.`,
        `- \`dw[${co2},${ci2},${a2},${b2}]\` sums dy·x over every image and output pixel whose window tap (${a2}, ${b2}) lands inside the image: ` +
          `${dwTerms} of the ${cs.n * ref.oh * ref.ow} (n, oh, ow) positions. On the CPU: ${sig(ref.dw[dwAt]!, 6)}; the \`conv2d.weight_grad\` kernel wrote ${sig(dwGpu![dwAt]!, 6)}.`,
      ].join('\n');
    }
    for (const t of [x, weight, bias, y]) t.dispose();
    for (const t of [x, weight, bias]) t.grad?.dispose();
  }
  await out.fragment(
    'ch3-check',
    [
      table(['case', 'result', 'kernels dispatched', 'values', 'largest \\|value\\|', 'largest \\|GPU − float64\\|'], rows),
      '',
      worked,
    ].join('\n'),
  );
  await out.fragment(
    'ch3-wgsl',
    sources
      .map((s) => [`<details><summary>WGSL of <code>${s.name}</code>, generated for the stride-1 case</summary>`, '', code('wgsl', s.code), '', '</details>'].join('\n'))
      .join('\n\n'),
  );
}

// Every parameter's gradient in a fine-tune step of torchvision's VGG16, VGG16-BN and ResNet-18
// (nothing frozen, BatchNorm on the batch's statistics, dropout off: its masks are random), every
// element, against PyTorch's float64 gradients of the same step at 64x64.
//
// Same step, same piece. ReLU's and max pooling's gradients jump where an input crosses zero or
// two inputs of a window swap places, and float32 and float64 do not cross at the same places:
// on the first try, one ReLU input of VGG16-BN was -8.6e-7 on one side and +8.3e-7 on the other,
// and every gradient below it (through train-mode BatchNorm, which spreads it over the channel)
// moved by 1e-3 of its size. So the engine's own decisions (each ReLU's mask, each max-pool's
// argmax, recorded from its forward pass) go to PyTorch, which computes the float64 gradient of
// that same piece of the piecewise-linear network (make_model_fixtures.py --gradients). What is
// left is rounding.
//
// Tolerance: 5e-5 of the largest reference gradient of the parameter's module. The module, not
// the parameter: a convolution's bias gradient is a sum of the same dy as its weight's, and where
// BatchNorm follows the convolution that sum is exactly zero (BatchNorm subtracts the mean),
// leaving rounding of the size of the weight gradient's terms. The worst error of each model is
// printed; observed on lavapipe over three draws of the weights 2.2-2.5e-6 (VGG16), 1.5-1.8e-5
// (VGG16-BN), 1.6-1.8e-5 (ResNet-18), and the same within 10% on SwiftShader. Scaling one
// BatchNorm backward term by 1.0001 fails ResNet-18 at its first convolution.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { A_FILE_PER_ARCH, ensureModelFixtures, expectedOutputs, MODELS_DIR, python } from './fixtures.js';
import type { GpuContext } from '../../src/runtime/context.js';
import type { Tensor } from '../../src/autograd/tensor.js';
import { tensor } from '../../src/ops/creation.js';
import { backward } from '../../src/ops/grad.js';
import { keep, tidy } from '../../src/autograd/scope.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { skipInit } from '../../src/nn/init.js';
import { ReLU } from '../../src/nn/activation.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Dropout } from '../../src/nn/dropout.js';
import { MaxPool2d } from '../../src/nn/pool.js';
import { createModel } from '../../src/models/registry.js';
import { loadWeightsFile } from '../../src/models/node-weights.js';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import { writeChunksToFile } from '../../src/models/formats/node-file-sink.js';
import { encodeSafetensors } from '../../src/models/formats/safetensors-write.js';
import type { TensorToWrite } from '../../src/models/formats/tensor-to-write.js';

const RELATIVE = 5e-5;
/** A full-size VGG16 forward and backward here, and PyTorch's in float64: a minute or two on 2 cores. */
const SLOW = 600_000;

let ctx: GpuContext;
let dir: string;

beforeAll(async () => {
  ctx = await testContext();
  ensureModelFixtures();
  dir = mkdtempSync(join(tmpdir(), 'wgt-full-gradients-'));
}, 900_000);

afterAll(() => {
  ctx?.pool.trim();
  rmSync(dir, { recursive: true, force: true });
});

/** What decided a ReLU's or a max pool's gradient in the forward pass, in call order. */
type Decision = { kind: 'relu'; output: Tensor } | { kind: 'pool'; input: Tensor; pool: MaxPool2d };

/**
 * Runs `forward` with every ReLU (module or fused into its convolution) and max pool recording
 * what decides its gradient: the ReLU's output, the pool's input (kept past the scope they are
 * made in; the caller disposes them).
 */
function recordingDecisions<T>(forward: () => T): { result: T; decisions: Decision[] } {
  const decisions: Decision[] = [];
  const relu = ReLU.prototype.forward;
  const convRelu = Conv2d.prototype.forwardRelu;
  const pool = MaxPool2d.prototype.forward;
  ReLU.prototype.forward = function (this: ReLU, x: Tensor) {
    const y = relu.call(this, x);
    decisions.push({ kind: 'relu', output: keep(y.share()) });
    return y;
  };
  Conv2d.prototype.forwardRelu = function (this: Conv2d, x: Tensor) {
    const y = convRelu.call(this, x);
    decisions.push({ kind: 'relu', output: keep(y.share()) });
    return y;
  };
  MaxPool2d.prototype.forward = function (this: MaxPool2d, x: Tensor) {
    decisions.push({ kind: 'pool', input: keep(x.share()), pool: this });
    return pool.call(this, x);
  };
  try {
    return { result: forward(), decisions };
  } finally {
    ReLU.prototype.forward = relu;
    Conv2d.prototype.forwardRelu = convRelu;
    MaxPool2d.prototype.forward = pool;
  }
}

/** Each window's argmax as the index h·W + w within its plane: the first maximum in window order, as the kernel and PyTorch take it. */
function argmaxIndices(x: Float32Array, shape: readonly number[], pool: MaxPool2d): { shape: number[]; data: BigInt64Array } {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [kh, kw] = pool.kernelSize;
  const [sh, sw] = pool.stride;
  const [ph, pw] = pool.padding;
  const outH = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const outW = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const data = new BigInt64Array(n * c * outH * outW);
  for (let plane = 0; plane < n * c; plane++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let best = -1;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const ih = oh * sh - ph + i;
            const iw = ow * sw - pw + j;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const at = ih * w + iw;
            const v = x[plane * h * w + at]!;
            if (best < 0 || v > x[plane * h * w + best]! || Number.isNaN(v)) best = at;
          }
        }
        data[(plane * outH + oh) * outW + ow] = BigInt(best);
      }
    }
  }
  return { shape: [n, c, outH, outW], data };
}

describe("a fine-tune step's gradients match PyTorch's float64 ones, every parameter and element, given the same ReLU and max-pool decisions", () => {
  for (const [arch, file] of A_FILE_PER_ARCH) {
    it(`${arch}`, async () => {
      const expected = await expectedOutputs(arch);
      const input = expected.get('input')! as { shape: readonly number[]; data: Float32Array };
      const labels = expected.get('labels')!.data as BigInt64Array;
      const model = skipInit(() => createModel(arch));
      await loadWeightsFile(model, MODELS_DIR + file);
      model.train();
      for (const [, module] of model.namedModules()) if (module instanceof Dropout) module.eval();

      const { decisions } = recordingDecisions(() =>
        tidy(() => backward(crossEntropy(model.forward(tensor(input.data, input.shape)), Array.from(labels, Number)))),
      );
      const given = new Map<string, TensorToWrite>([
        ['input', { dtype: 'F32', shape: input.shape, data: input.data }],
        ['labels', { dtype: 'I64', shape: [labels.length], data: labels }],
      ]);
      let relus = 0;
      let pools = 0;
      for (const decision of decisions) {
        if (decision.kind === 'relu') {
          const y = (await decision.output.read()) as Float32Array;
          given.set(`relu.${relus++}`, { dtype: 'U8', shape: decision.output.shape, data: Uint8Array.from(y, (v) => (v > 0 ? 1 : 0)) });
          decision.output.dispose();
        } else {
          const x = (await decision.input.read()) as Float32Array;
          const { shape, data } = argmaxIndices(x, decision.input.shape, decision.pool);
          given.set(`pool.${pools++}`, { dtype: 'I64', shape, data });
          decision.input.dispose();
        }
      }
      expect(relus).toBeGreaterThan(0);
      const decisionsFile = join(dir, `${arch}.decisions.safetensors`);
      const referenceFile = join(dir, `${arch}.gradients.safetensors`);
      await writeChunksToFile(decisionsFile, encodeSafetensors(given));
      python(['--gradients', arch, MODELS_DIR + file, decisionsFile, referenceFile]);

      // Two passes over the file, one tensor in memory at a time (VGG16's gradients are 553 MB):
      // each module's largest reference gradient, then the comparison.
      const reference = await openWeightsFile(referenceFile);
      const moduleOf = (name: string) => name.slice(0, name.lastIndexOf('.'));
      const scale = new Map<string, number>();
      let worst = { error: 0, name: '' };
      try {
        for (const [name] of model.namedParameters()) {
          let max = 0;
          for (const v of await reference.read(name)) max = Math.max(max, Math.abs(v));
          scale.set(moduleOf(name), Math.max(scale.get(moduleOf(name)) ?? 0, max));
        }
        for (const [name, parameter] of model.namedParameters()) {
          const grad = (await parameter.grad!.read()) as Float32Array;
          const want = await reference.read(name);
          const unit = scale.get(moduleOf(name))!;
          let error = 0;
          for (let i = 0; i < want.length; i++) error = Math.max(error, Math.abs(grad[i]! - want[i]!));
          if (error / unit > worst.error) worst = { error: error / unit, name };
          expectClose(grad, want, RELATIVE * unit, 0, `${arch} grad ${name}`);
        }
      } finally {
        await reference.close();
      }
      console.log(`${arch}: ${relus} ReLU masks and ${pools} max-pool argmaxes given to PyTorch; worst gradient error ${worst.error.toExponential(2)} of its module's largest (${worst.name})`);
      model.dispose();
    }, SLOW);
  }
});

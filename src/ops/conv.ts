import { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { InputError, ShapeError } from '../runtime/errors.js';
import { convOutputSize, type Conv2dGeometry } from '../kernels/conv2d-common.js';
import { runConv2dForward, runConv2dInputGrad } from '../kernels/conv2d-implicit-gemm.js';
import { runConv2dWeightGrad } from '../kernels/conv2d-weight-grad.js';
import { runConv2dBiasGrad } from '../kernels/conv2d-bias-grad.js';
import { expectFloat } from './checks.js';
import { reluGrad } from './elementwise.js';

export type IntPair = number | readonly [number, number];

export interface ConvOptions {
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  groups?: number;
}

/**
 * 2-D convolution with PyTorch's semantics: x [N, C, H, W], weight [O, C / groups, KH, KW],
 * optional bias [O]; y [N, O, OH, OW].
 *
 * Backward, one kernel per gradient and each only when asked for:
 *   dx = the transposed convolution of dy with the weight   (needs the weight)
 *   dw = Σ over every output pixel of dy ⊗ the window of x  (needs x)
 *   db = Σ of dy over N, OH, OW                             (needs nothing)
 * So x is saved only if the weight needs a gradient and the weight only if x does: a frozen
 * layer over an input that needs no gradient saves nothing at all, and a frozen layer inside a
 * trainable network keeps its weight but not its activation.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, options: ConvOptions = {}): Tensor {
  return convolve('conv2d', x, weight, bias, options, false);
}

/**
 * relu(conv2d(x, weight, bias)) in one kernel: the convolution stores max(y, 0), so the
 * activation is written once instead of written, read and written again (nn's Sequential runs a
 * Conv2d followed by a ReLU this way). Backward masks the incoming gradient with the output, as
 * relu's does, then runs conv2d's gradients. The same bits as the two operations.
 */
export function conv2dRelu(x: Tensor, weight: Tensor, bias?: Tensor, options: ConvOptions = {}): Tensor {
  return convolve('conv2d_relu', x, weight, bias, options, true);
}

function convolve(op: string, x: Tensor, weight: Tensor, bias: Tensor | undefined, options: ConvOptions, relu: boolean): Tensor {
  if (bias !== undefined && !(bias instanceof Tensor)) {
    // JavaScript callers' slip: conv2d(x, w, { padding: 1 }) puts the options where the bias goes.
    throw new InputError(`${op}: the third argument is the bias, a Tensor or undefined; the options come fourth: ${op}(x, weight, undefined, options)`);
  }
  expectFloat(op, x, weight, ...(bias ? [bias] : []));
  const g = conv2dGeometry(x, weight, bias, options);
  const y = runConv2dForward(x, weight, bias, g, { relu });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const needW = weight.requiresGrad;
  const needX = x.requiresGrad;
  const save = [needW ? x : null, needX ? weight : null, relu ? y : null].filter((t): t is Tensor => t !== null);
  return record(op, y, inputs, save, (dyOut, saved, needs) => {
    const xs = needW ? saved[0]! : null;
    const ws = needX ? saved[needW ? 1 : 0]! : null;
    if ((needs[0] && !ws) || (needs[1] && !xs)) {
      throw new Error(`${op} (weight '${weight.name}'): requiresGrad was turned on after the forward pass, which saved nothing for it; run the forward again`);
    }
    let dy = dyOut;
    if (relu) {
      const output = saved[saved.length - 1]!;
      dy = reluGrad(dyOut, output);
      // The output is needed for the mask only: let it go now, not after this rule (when the
      // graph releases what a node saved), so that its buffer is free again before the
      // gradients below are made, as with a separate relu node. Disposing twice is harmless.
      output.dispose();
    }
    const dx = needs[0] ? runConv2dInputGrad(dy, ws!, g) : null;
    const dw = needs[1] ? runConv2dWeightGrad(xs!, dy, g) : null;
    const db = bias && needs[2] ? runConv2dBiasGrad(dy) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

function pair(value: IntPair | undefined, fallback: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

const shapeOf = (t: Tensor) => `[${t.shape.join(', ')}]`;

/** Checks the operands (errors name the layer by its weight and show every shape) and sizes. */
function conv2dGeometry(x: Tensor, weight: Tensor, bias: Tensor | undefined, options: ConvOptions): Conv2dGeometry {
  const layer = `conv2d (weight '${weight.name}' ${shapeOf(weight)})`;
  if (x.ndim !== 4) throw new ShapeError(`${layer}: expected a 4-D input [N, C, H, W], got '${x.name}' of shape ${shapeOf(x)}`);
  if (weight.ndim !== 4) throw new ShapeError(`${layer}: expected a 4-D weight [out, in / groups, KH, KW]`);
  const [stride, padding, dilation] = [pair(options.stride, 1), pair(options.padding, 0), pair(options.dilation, 1)];
  const groups = options.groups ?? 1;
  const positive = (v: number) => Number.isInteger(v) && v >= 1;
  if (![...stride, ...dilation, groups].every(positive) || !padding.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ShapeError(`${layer}: stride (${stride}), dilation (${dilation}) and groups (${groups}) must be positive integers, padding (${padding}) a non-negative one`);
  }
  const [batch, inChannels, inH, inW] = x.shape as [number, number, number, number];
  const [outChannels, perGroup, kernelH, kernelW] = weight.shape as [number, number, number, number];
  if (inChannels !== perGroup * groups) {
    throw new ShapeError(
      `${layer}: input ${shapeOf(x)} has ${inChannels} channels, but the weight expects ${perGroup} × groups ${groups} = ${perGroup * groups}`,
    );
  }
  if (outChannels % groups !== 0) throw new ShapeError(`${layer}: ${outChannels} output channels do not split into ${groups} groups`);
  if (bias && (bias.ndim !== 1 || bias.size !== outChannels)) {
    throw new ShapeError(`${layer}: bias '${bias.name}' of shape ${shapeOf(bias)} for ${outChannels} output channels`);
  }
  const outH = convOutputSize(inH, kernelH, stride[0], padding[0], dilation[0]);
  const outW = convOutputSize(inW, kernelW, stride[1], padding[1], dilation[1]);
  if (outH < 1 || outW < 1) {
    const spanH = dilation[0] * (kernelH - 1) + 1;
    const spanW = dilation[1] * (kernelW - 1) + 1;
    throw new ShapeError(
      `${layer}: the ${kernelH}x${kernelW} kernel (dilation ${dilation.join('x')}: spans ${spanH}x${spanW}) is larger than the ` +
        `padded input ${inH + 2 * padding[0]}x${inW + 2 * padding[1]} (input ${shapeOf(x)}, padding ${padding.join('x')})`,
    );
  }
  return {
    batch, inChannels, inH, inW, outChannels, outH, outW, kernelH, kernelW,
    strideH: stride[0], strideW: stride[1],
    padH: padding[0], padW: padding[1],
    dilationH: dilation[0], dilationW: dilation[1],
    groups,
  };
}

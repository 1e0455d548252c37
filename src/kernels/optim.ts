import type { Tensor } from '../autograd/tensor.js';
import type { GpuContext } from '../runtime/context.js';
import { bindingChunks, groupsFor, launch } from './launch.js';
import { WORKGROUP_1D, entry1d } from './wgsl.js';
import { cached } from './cached-source.js';

/**
 * Optimizer updates: one fused kernel per parameter and step, which reads the gradient and
 * updates the parameter and its state buffers in place (PyTorch's single-tensor rules, written
 * out in the same order). Each update is a row: its hyper-parameters (uniforms), its state
 * buffers (same shape as the parameter) and its body over element i.
 */
const UPDATES = {
  sgd: {
    uniforms: 'lr: f32, weight_decay: f32',
    state: [],
    body: /* wgsl */ `
  param[i] = param[i] - p.lr * (grad[i] + p.weight_decay * param[i]);`,
  },
  // PyTorch starts the momentum buffer as a copy of the first gradient (no dampening then).
  // The parameter is read once, before the momentum store: read again after it, it is loaded
  // again, since the shader compiler cannot know that the two buffers never overlap (lavapipe:
  // 16M parameters in 118-125 ms against 145-149, alternated in one process).
  sgd_momentum: {
    uniforms: 'lr: f32, weight_decay: f32, momentum: f32, dampening: f32, nesterov: u32, first_step: u32',
    state: ['momentum_buffer'],
    body: /* wgsl */ `
  let w = param[i];
  var d = grad[i] + p.weight_decay * w;
  let buf = select(p.momentum * momentum_buffer[i] + (1.0 - p.dampening) * d, d, p.first_step != 0u);
  momentum_buffer[i] = buf;
  d = select(buf, d + p.momentum * buf, p.nesterov != 0u);
  param[i] = w - p.lr * d;`,
  },
  // Adam: L2 weight decay folded into the gradient. step_size = lr / (1 − β1^t) and
  // bias_correction2_sqrt = √(1 − β2^t) come from the CPU in float64.
  adam: {
    uniforms: 'lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, step_size: f32, bias_correction2_sqrt: f32',
    state: ['exp_avg', 'exp_avg_sq'],
    body: adamBody('let g = grad[i] + p.weight_decay * param[i];\n  let w = param[i];'),
  },
  // AdamW: the weight decay is decoupled, a shrink of the parameter before the Adam step.
  adamw: {
    uniforms: 'lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, step_size: f32, bias_correction2_sqrt: f32',
    state: ['exp_avg', 'exp_avg_sq'],
    body: adamBody('let g = grad[i];\n  let w = param[i] * (1.0 - p.lr * p.weight_decay);'),
  },
} as const;

function adamBody(gradientAndWeight: string): string {
  return /* wgsl */ `
  ${gradientAndWeight}
  let m = p.beta1 * exp_avg[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * exp_avg_sq[i] + (1.0 - p.beta2) * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  let denom = sqrt(v) / p.bias_correction2_sqrt + p.eps;
  param[i] = w - p.step_size * m / denom;`;
}

export type UpdateRule = keyof typeof UPDATES;

/**
 * Width 4 reads and writes every buffer as vec4s (the bodies are the same text: the uniforms are
 * scalars, which WGSL broadcasts): a quarter of the loads, stores and loop steps. Used whenever
 * the slice's length is a multiple of 4, which every weight of VGG16 and ResNet18 is.
 */
type Width = 1 | 4;

const source = cached(buildSource);
function buildSource(rule: UpdateRule, width: Width) {
  const { uniforms, state, body } = UPDATES[rule];
  const element = width === 4 ? 'vec4<f32>' : 'f32';
  const stateBindings = state.map((name, k) => `@group(0) @binding(${k + 2}) var<storage, read_write> ${name}: array<${element}>;`);
  return {
    name: `optim.${rule}${width === 4 ? '.vec4' : ''}`,
    code: /* wgsl */ `
struct Params { size: u32, span: u32, ${uniforms} }  // size and span in ${element}s
@group(0) @binding(0) var<storage, read_write> param: array<${element}>;
@group(0) @binding(1) var<storage, read> grad: array<${element}>;
${stateBindings.join('\n')}
@group(0) @binding(${state.length + 2}) var<uniform> p: Params;
${entry1d} {
  // This workgroup updates elements [group·span, (group+1)·span), lane by lane.
  let group = wg.x + (wg.y + wg.z * groups.y) * groups.x;
  let end = min(p.size, (group + 1u) * p.span);
  for (var i = group * p.span + local; i < end; i += ${WORKGROUP_1D}u) {
    ${body.trim().split('\n').join('\n  ')}
  }
}`,
  };
}

/**
 * Elements one workgroup updates: one per invocation on GPUs; 64 per invocation on CPU adapters,
 * where launching a workgroup costs microseconds (lavapipe: ~6 µs, measured), so that VGG16's
 * 103M-element fc6 weight takes 25 thousand workgroups rather than 1.6 million.
 */
function spanFor(ctx: GpuContext): number {
  return ctx.kernelTarget === 'cpu' ? 64 * WORKGROUP_1D : WORKGROUP_1D;
}

/**
 * Updates `param` in place with `rule`. A parameter larger than one binding (VGG16's 411 MB
 * classifier.0.weight) is updated slice by slice: the parameter, its gradient and every state
 * buffer have the same size, so they share the slices.
 */
export function runUpdate(
  rule: UpdateRule,
  param: Tensor,
  grad: Tensor,
  state: Readonly<Record<string, Tensor>>,
  hyper: Record<string, number>,
): void {
  const span = spanFor(param.ctx);
  for (const { offset, count } of bindingChunks(param.ctx, param.size)) {
    const slice = (tensor: Tensor) => ({ tensor, offset, count });
    const buffers: Record<string, { tensor: Tensor; offset: number; count: number }> = { param: slice(param), grad: slice(grad) };
    for (const name of UPDATES[rule].state) buffers[name] = slice(state[name]!);
    const width: Width = count % 4 === 0 ? 4 : 1;
    const units = count / width;
    launch(param.ctx, source(rule, width), { buffers, uniforms: { size: units, span, ...hyper }, workgroups: groupsFor(units, span) });
  }
}

import type { Tensor } from '../autograd/tensor.js';
import { runUpdate } from '../kernels/optim.js';
import { Optimizer, check, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

type AdamParams = readonly Tensor[] | readonly ParamGroupSpec<AdamOptions>[];

/**
 * Adam, as torch.optim.Adam (amsgrad is not implemented): with t the parameter's step count,
 *
 *   g = grad + weightDecay·p                                  (L2, folded into the gradient)
 *   m = β1·m + (1 − β1)·g,   v = β2·v + (1 − β2)·g²
 *   p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 *
 * One `optim.adam` dispatch per parameter; the bias corrections are computed here in float64.
 */
export class Adam extends Optimizer<AdamOptions> {
  protected readonly rule: 'adam' | 'adamw' = 'adam';

  constructor(params: AdamParams, options: Partial<AdamOptions> = {}, name = 'Adam') {
    super(name, params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, options);
  }

  protected validate(g: AdamOptions): void {
    const [beta1, beta2] = g.betas;
    check(this.name, 'lr', g.lr, g.lr >= 0, '>= 0');
    check(this.name, 'betas[0]', beta1, beta1 >= 0 && beta1 < 1, 'in [0, 1)');
    check(this.name, 'betas[1]', beta2, beta2 >= 0 && beta2 < 1, 'in [0, 1)');
    check(this.name, 'eps', g.eps, g.eps >= 0, '>= 0');
    check(this.name, 'weightDecay', g.weightDecay, g.weightDecay >= 0, '>= 0');
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamOptions>): void {
    const [beta1, beta2] = g.betas;
    const expAvg = this.buffer(state, 'exp_avg', param, 'zeros').tensor;
    const expAvgSq = this.buffer(state, 'exp_avg_sq', param, 'zeros').tensor;
    runUpdate(this.rule, param, grad, { exp_avg: expAvg, exp_avg_sq: expAvgSq }, {
      lr: g.lr,
      beta1,
      beta2,
      eps: g.eps,
      weight_decay: g.weightDecay,
      step_size: g.lr / (1 - beta1 ** state.step),
      bias_correction2_sqrt: Math.sqrt(1 - beta2 ** state.step),
    });
  }
}

/**
 * AdamW, as torch.optim.AdamW: Adam with decoupled weight decay, p = p·(1 − lr·weightDecay)
 * before the Adam step instead of an L2 term in the gradient (Loshchilov & Hutter). Default
 * weightDecay 0.01. One `optim.adamw` dispatch per parameter.
 */
export class AdamW extends Adam {
  protected override readonly rule = 'adamw';

  constructor(params: AdamParams, options: Partial<AdamOptions> = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 1e-2 }, 'AdamW');
  }
}

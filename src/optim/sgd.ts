import type { Tensor } from '../autograd/tensor.js';
import { runUpdate } from '../kernels/optim.js';
import { Optimizer, check, type ParamGroup, type ParamGroupSpec, type ParamState } from './optimizer.js';
import { OptionRangeError } from '../runtime/errors.js';

export interface SgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** L2 penalty, added to the gradient as weightDecay·param. */
  weightDecay: number;
}

/**
 * Stochastic gradient descent with momentum, as torch.optim.SGD:
 *
 *   d = g + weightDecay·p
 *   buf = d on the first step, else momentum·buf + (1 − dampening)·d
 *   d = d + momentum·buf (nesterov) or buf
 *   p = p − lr·d
 *
 * One `optim.sgd_momentum` dispatch per parameter (`optim.sgd` without momentum, no buffer).
 */
export class SGD extends Optimizer<SgdOptions> {
  constructor(params: readonly Tensor[] | readonly ParamGroupSpec<SgdOptions>[], options: Partial<SgdOptions> & { lr: number }) {
    super('SGD', params, { lr: options.lr, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }, options);
  }

  protected validate(g: SgdOptions): void {
    check('SGD', 'lr', g.lr, g.lr >= 0, '>= 0');
    check('SGD', 'momentum', g.momentum, g.momentum >= 0, '>= 0');
    check('SGD', 'weightDecay', g.weightDecay, g.weightDecay >= 0, '>= 0');
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new OptionRangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<SgdOptions>): void {
    if (g.momentum === 0) {
      runUpdate('sgd', param, grad, {}, { lr: g.lr, weight_decay: g.weightDecay });
      return;
    }
    const { tensor, fresh } = this.buffer(state, 'momentum_buffer', param, 'uninitialised');
    runUpdate('sgd_momentum', param, grad, { momentum_buffer: tensor }, {
      lr: g.lr,
      weight_decay: g.weightDecay,
      momentum: g.momentum,
      dampening: g.dampening,
      nesterov: g.nesterov ? 1 : 0,
      first_step: fresh ? 1 : 0,
    });
  }
}

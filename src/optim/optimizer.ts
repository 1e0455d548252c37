import { Tensor } from '../autograd/tensor.js';
import { keep } from '../autograd/scope.js';
import { zeroGrad } from '../ops/grad.js';
import { zeros } from '../ops/creation.js';
import { DTypeError, OptionRangeError, ShapeError } from '../runtime/errors.js';
import { parameterLayer, withDispatchLabel } from '../runtime/dispatch-label.js';

/** Hyper-parameters every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** A set of parameters with its own hyper-parameters (e.g. a lower lr for a fine-tuned base). */
export type ParamGroup<O extends BaseOptions> = O & { params: Tensor[] };

/** How a group is given: its parameters, and any options that differ from the optimizer's. */
export type ParamGroupSpec<O extends BaseOptions> = Partial<O> & { params: Tensor[] };

/** What an optimizer keeps for one parameter, created on the parameter's first update. */
export interface ParamState {
  /** Updates applied to this parameter (PyTorch counts per parameter too). */
  step: number;
  /** State tensors of the parameter's shape, by PyTorch's names (`momentum_buffer`, `exp_avg`, ...). */
  buffers: Record<string, Tensor>;
}

/**
 * A checkpointable snapshot laid out as torch.optim's state_dict(), with PyTorch's key names so
 * that the two map one to one: parameters are numbered in group order, state tensors are read
 * back to Float32Arrays, and group options are spelled snake_case (`weight_decay`).
 */
export interface OptimizerStateDict {
  state: Record<number, { step: number } & Record<string, number | Float32Array>>;
  param_groups: (Record<string, number | boolean | number[]> & { params: number[] })[];
}

/**
 * The part of every optimizer that is not its update rule: parameter groups, per-parameter
 * state created lazily, skipping what is not trained, zeroGrad and state dicts.
 *
 * A parameter that does not require a gradient (frozen) or has none this step gets no update
 * and no state: freezing a VGG16 base costs no optimizer memory for it.
 */
export abstract class Optimizer<O extends BaseOptions> {
  readonly paramGroups: ParamGroup<O>[];
  readonly state = new Map<Tensor, ParamState>();
  /** The options of groups that do not set their own. */
  readonly defaults: O;

  /** `builtin` are the rule's defaults (PyTorch's), `options` what the caller gave. */
  protected constructor(readonly name: string, params: readonly Tensor[] | readonly ParamGroupSpec<O>[], builtin: O, options: Partial<O>) {
    const defaults = (this.defaults = { ...builtin, ...definedOnly(options) });
    if (params.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const specs = params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroupSpec<O>[]);
    this.paramGroups = specs.map((spec) => ({ ...defaults, ...definedOnly(spec), params: [...spec.params] }) as ParamGroup<O>);
    const seen = new Set<Tensor>();
    for (const group of this.paramGroups) {
      this.validate(group);
      for (const p of group.params) {
        if (seen.has(p)) throw new Error(`${name}: parameter '${p.name}' appears in more than one group`);
        if (p.dtype !== 'float32') throw new DTypeError(`${name}: parameter '${p.name}' is ${p.dtype}; only float32 parameters can be optimized`);
        seen.add(p);
      }
    }
  }

  /** Throws on hyper-parameters out of range (checked for every group). */
  protected abstract validate(group: O): void;

  /** Applies the update to one parameter; `state` is created empty on its first update. */
  protected abstract update(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<O>): void;

  /** The first group's learning rate. */
  get lr(): number {
    return this.paramGroups[0]?.lr ?? this.defaults.lr;
  }

  /** Sets every group's learning rate (set `paramGroups[i].lr` to change one group). */
  set lr(value: number) {
    for (const group of this.paramGroups) group.lr = value;
  }

  /** One update of every parameter that requires a gradient and has one, one dispatch each. */
  step(): void {
    for (const group of this.paramGroups) {
      for (const param of group.params) {
        const grad = param.grad;
        if (!param.requiresGrad || !grad) continue;
        if (grad.size !== param.size) {
          throw new ShapeError(`${this.name}: gradient [${grad.shape.join(', ')}] does not match parameter '${param.name}' [${param.shape.join(', ')}]`);
        }
        let state = this.state.get(param);
        if (!state) this.state.set(param, (state = { step: 0, buffers: {} }));
        state.step++;
        withDispatchLabel(parameterLayer(param.name), () => this.update(param, grad, state, group));
      }
    }
  }

  /** Releases every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    zeroGrad(this.paramGroups.flatMap((g) => g.params));
  }

  /** A state buffer of `param`'s shape, made on first use (kept out of scopes: it lives on). */
  protected buffer(state: ParamState, name: string, param: Tensor, initial: 'zeros' | 'uninitialised'): { tensor: Tensor; fresh: boolean } {
    const existing = state.buffers[name];
    if (existing) return { tensor: existing, fresh: false };
    const options = { ctx: param.ctx, name: `${param.name}.${name}` };
    const tensor = keep(initial === 'zeros' ? zeros(param.shape, options) : Tensor.empty(param.ctx, param.shape, 'float32', options.name));
    state.buffers[name] = tensor;
    return { tensor, fresh: true };
  }

  /**
   * The state without reading it back: the groups (as stateDict gives them), and each parameter's
   * index, step and state tensors, still on the GPU (a checkpoint reads them one at a time).
   */
  stateTensors(): { state: { index: number; step: number; buffers: Readonly<Record<string, Tensor>> }[]; param_groups: OptimizerStateDict['param_groups'] } {
    const index = this.parameterIndex();
    const state = [...this.state].map(([param, s]) => ({ index: index.get(param)!, step: s.step, buffers: s.buffers }));
    const param_groups = this.paramGroups.map((group) => {
      const options: Record<string, number | boolean | number[]> = {};
      for (const key of Object.keys(this.defaults)) options[snakeCase(key)] = (group as unknown as Record<string, number | boolean | number[]>)[key]!;
      return { ...options, params: group.params.map((p) => index.get(p)!) };
    });
    return { state, param_groups };
  }

  async stateDict(): Promise<OptimizerStateDict> {
    const { state: tensors, param_groups } = this.stateTensors();
    const state: OptimizerStateDict['state'] = {};
    await Promise.all(
      tensors.map(async ({ index, step, buffers }) => {
        const entry: { step: number } & Record<string, number | Float32Array> = { step };
        for (const [name, tensor] of Object.entries(buffers)) entry[name] = (await tensor.read()) as Float32Array;
        state[index] = entry;
      }),
    );
    return { state, param_groups };
  }

  /** Restores a snapshot taken by `stateDict()` for the same parameters in the same order. */
  loadStateDict(dict: OptimizerStateDict): void {
    if (dict.param_groups.length !== this.paramGroups.length) {
      throw new Error(`${this.name}.loadStateDict: ${dict.param_groups.length} parameter groups given, this optimizer has ${this.paramGroups.length}`);
    }
    dict.param_groups.forEach((saved, g) => {
      const group = this.paramGroups[g]!;
      if (saved.params.length !== group.params.length) {
        throw new Error(`${this.name}.loadStateDict: group ${g} has ${saved.params.length} parameters in the state dict, ${group.params.length} here`);
      }
    });
    const params = this.paramGroups.flatMap((g) => g.params);
    const restored = new Map<Tensor, ParamState>();
    for (const [key, saved] of Object.entries(dict.state)) {
      const param = params[Number(key)];
      if (!param) throw new Error(`${this.name}.loadStateDict: state for parameter ${key}, but there are ${params.length}`);
      const buffers: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(saved)) {
        if (name === 'step' || typeof value === 'number') continue;
        if (value.length !== param.size) {
          throw new ShapeError(`${this.name}.loadStateDict: '${name}' of parameter ${key} ('${param.name}') holds ${value.length} values, the parameter ${param.size}`);
        }
        buffers[name] = keep(Tensor.fromData(param.ctx, value, param.shape, 'float32', `${param.name}.${name}`));
      }
      restored.set(param, { step: saved.step ?? 0, buffers });
    }
    dict.param_groups.forEach((saved, g) => {
      const group = this.paramGroups[g]! as unknown as Record<string, unknown>;
      for (const key of Object.keys(this.defaults)) {
        const value = saved[snakeCase(key)];
        if (value !== undefined) group[key] = Array.isArray(value) ? [...value] : value;
      }
      this.validate(this.paramGroups[g]!);
    });
    this.dispose();
    for (const [param, s] of restored) this.state.set(param, s);
  }

  /** Frees every state tensor (the optimizer starts afresh on its next step). */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.state.clear();
  }

  private parameterIndex(): Map<Tensor, number> {
    const index = new Map<Tensor, number>();
    for (const group of this.paramGroups) for (const p of group.params) index.set(p, index.size);
    return index;
  }
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Drops keys given as undefined, so they do not override the defaults. */
function definedOnly<T extends object>(spec: T): Partial<T> {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws an OptionRangeError unless `value` satisfies `ok`. */
export function check(optimizer: string, name: string, value: number, ok: boolean, range: string): void {
  if (!ok || Number.isNaN(value)) throw new OptionRangeError(`${optimizer}: ${name} must be ${range}, got ${value}`);
}

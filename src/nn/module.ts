/**
 * The module system in PyTorch's terms: a Module owns named parameters (trainable tensors),
 * named buffers (state that is saved but not trained: BatchNorm's running statistics) and named
 * child modules. Names compose into paths (`features.0.weight`), which are the state-dict keys
 * and, because every parameter's `name` is set to its path, what error messages show.
 */
import type { Tensor } from '../autograd/tensor.js';
import { keep } from '../autograd/scope.js';
import { bumpFrozenGeneration } from '../autograd/frozen-generation.js';
import { DTypeError } from '../runtime/errors.js';
import { checkState, Counter, type IncomingEntry, type LoadReport, type StateDict, type StateSlot, type StateValue } from './state-dict.js';

export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (PyTorch's default). Size mismatches are always refused. */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active, BatchNorm on batch statistics); see `train()` / `eval()`. */
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, StateSlot>();
  private readonly ownChildren = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** Makes `tensor` a trainable parameter of this module, named `name` (a leaf that requires grad). */
  protected registerParameter(name: string, tensor: Tensor): Tensor {
    tensor.requiresGrad = true;
    return this.own(this.ownParameters, name, tensor);
  }

  /** Makes `slot` saved state of this module (a tensor, or a CPU counter saved as int64). */
  protected registerBuffer<T extends StateSlot>(name: string, slot: T): T {
    this.own(this.ownBuffers, name, slot);
    return slot;
  }

  /** Adds a child module under `name`; its parameters are renamed to their paths from here. */
  protected addModule<M extends Module>(name: string, module: M): M {
    if (name.includes('.') || name === '') throw new Error(`module name '${name}' must be non-empty and contain no '.'`);
    if (this.ownChildren.has(name)) throw new Error(`${this.constructor.name} already has a child named '${name}'`);
    this.ownChildren.set(name, module);
    for (const [path, slot] of module.stateSlots(name)) slot.name = path;
    return module;
  }

  private own<T extends StateSlot>(into: Map<string, T>, name: string, slot: T): T {
    if (this.ownParameters.has(name) || this.ownBuffers.has(name)) throw new Error(`${this.constructor.name} already has '${name}'`);
    if (!(slot instanceof Counter)) keep(slot); // owned by the module, not by any tidy() scope
    slot.name = name;
    into.set(name, slot);
    return slot;
  }

  /** Parameters with their paths, in registration order, this module's before its children's. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, p] of module.ownParameters) out.push([join(path, name), p]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, StateSlot][] {
    const out: [string, StateSlot][] = [];
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, b] of module.ownBuffers) out.push([join(path, name), b]);
    }
    return out;
  }

  namedChildren(): [string, Module][] {
    return [...this.ownChildren];
  }

  /** This module (path `prefix`) and every descendant, parents before children (pre-order). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.ownChildren) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** The descendant at a dotted path (`'features.24'`); '' is this module. */
  getSubmodule(path: string): Module {
    let module: Module = this;
    for (const name of path === '' ? [] : path.split('.')) {
      const child = module.ownChildren.get(name);
      if (!child) throw new Error(`${this.constructor.name} has no submodule '${path}' ('${name}' not found)`);
      module = child;
    }
    return module;
  }

  /**
   * Every state-dict slot with its key, in PyTorch's order: per module, parameters then buffers,
   * then the children's.
   */
  stateSlots(prefix = ''): Map<string, StateSlot> {
    const out = new Map<string, StateSlot>();
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, p] of module.ownParameters) out.set(join(path, name), p);
      for (const [name, b] of module.ownBuffers) out.set(join(path, name), b);
    }
    return out;
  }

  /** Sets training mode here and in every descendant, as `nn.Module.train(mode)`. */
  train(mode = true): this {
    for (const [, module] of this.namedModules()) module.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * The state dict: the module's own tensors (not copies: do not dispose them) and its counters
   * as int64 bigints, under torchvision's keys.
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [key, slot] of this.stateSlots()) out.set(key, slot instanceof Counter ? BigInt(slot.value) : slot);
    return out;
  }

  /**
   * Copies `dict` into this module's tensors (on the GPU; the parameters stay the same objects,
   * so optimizers holding them are unaffected). Everything is checked first: a bad dict changes
   * nothing. Counters missing from the dict (pre-1.0 PyTorch files) are set to 0.
   */
  loadStateDict(dict: ReadonlyMap<string, StateValue | number>, options: LoadStateDictOptions = {}): LoadReport {
    const slots = this.stateSlots();
    const incoming = new Map<string, IncomingEntry>();
    for (const [key, value] of dict) {
      if (typeof value === 'object' && value.dtype !== 'float32') throw new DTypeError(`loadStateDict: '${key}' is ${value.dtype}; state-dict tensors are float32`);
      // Counters are given as numbers or bigints; a tensor there is refused as non-integer.
      incoming.set(key, typeof value === 'object' ? { shape: value.shape, integer: false } : { shape: [], integer: true });
    }
    const report = checkState(slots, incoming, { strict: options.strict, source: 'the state dict', target: this.constructor.name });
    bumpFrozenGeneration(); // frozen layers' weights may change: their cached outputs are stale
    for (const key of report.loadedKeys) {
      const slot = slots.get(key)!;
      const value = dict.get(key)!;
      if (slot instanceof Counter) slot.value = Number(value);
      else if (value !== slot) slot.ctx.recorder.copy((value as Tensor).buffer, 0, slot.buffer, 0, slot.byteSize);
    }
    for (const [key, slot] of slots) if (slot instanceof Counter && !dict.has(key)) slot.value = 0;
    return report;
  }

  /** Releases every parameter's gradient (optimizer.zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the GPU memory of every parameter, gradient and buffer. The module is unusable after. */
  dispose(): void {
    this.zeroGrad();
    for (const slot of this.stateSlots().values()) if (!(slot instanceof Counter)) slot.dispose();
  }

  /** Shown after the class name in `toString()`, as PyTorch's `extra_repr`. */
  protected extraRepr(): string {
    return '';
  }

  /** A tree in PyTorch's repr style, e.g. `(0): Conv2d(3, 64, kernel_size=(3, 3), ...)`. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.ownChildren.size === 0) return `${head})`;
    const lines = [...this.ownChildren].map(([name, child]) => `  (${name}): ${child.toString().replaceAll('\n', '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

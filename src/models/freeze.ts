/**
 * Freezing: which parameters train. A frozen parameter has `requiresGrad = false`, and the engine
 * honours that all the way down (autograd/graph.ts `record`): an operation none of whose inputs
 * needs a gradient saves nothing and records no backward step, so a frozen base costs no
 * activation memory and no backward kernels, and backward stops at the first trainable layer.
 *
 * Selectors (each function takes one or a list):
 *   - a module path: 'features' selects every parameter under it, 'features.24' one layer's;
 *   - a glob over dotted names: '*' within one name part, '**' across parts, e.g. 'layer*',
 *     'features.2?', '**.bias'; like a path, it also selects everything under what it matches;
 *   - a RegExp, tested against full parameter names ('features.0.weight');
 *   - a function of the parameter name.
 * A selector that matches nothing is an error: a typo must not silently train the whole base.
 *
 * BatchNorm in a frozen block (`bnMode`): PyTorch only stops the gradients; a BatchNorm in
 * training mode keeps normalising with each batch's statistics and moving its running averages,
 * even with its weight and bias frozen ('follow-model'). The usual transfer-learning choice, and
 * the default here, is 'frozen-eval': a BatchNorm whose parameters are all frozen normalises with
 * its running statistics and leaves them alone, whatever `model.train()` says. The frozen weights
 * were fitted to those statistics, and a small batch (the notebook uses 4) gives noisy ones.
 * See docs/freezing.md.
 */
import { BatchNorm2d } from '../nn/batchnorm.js';
import type { Module } from '../nn/module.js';
import { InputError, formatBytes } from '../runtime/errors.js';
import { headPathOf, isUnder } from './head.js';

export type Selector = string | RegExp | ((name: string) => boolean);
export type BnMode = 'frozen-eval' | 'follow-model';

export interface FreezeOptions {
  /** How a BatchNorm whose parameters are all frozen behaves in training mode (default 'frozen-eval'). */
  bnMode?: BnMode;
}

/** Stops training the selected parameters. Returns the names that changed. */
export function freeze(model: Module, selector: Selector | readonly Selector[], options: FreezeOptions = {}): string[] {
  return setTrainable(model, select(model, selector, 'freeze'), false, options);
}

/** Trains the selected parameters again. Returns the names that changed. */
export function unfreeze(model: Module, selector: Selector | readonly Selector[], options: FreezeOptions = {}): string[] {
  return setTrainable(model, select(model, selector, 'unfreeze'), true, options);
}

/**
 * Trains the module at `path` and every module after it in the model's order (e.g.
 * `unfreezeFrom(vgg, 'features.24')`: the last conv block and the classifier), as fine-tuning
 * "the top of the base" does. Parameters before it keep their state.
 */
export function unfreezeFrom(model: Module, path: string, options: FreezeOptions = {}): string[] {
  const modules = model.namedModules();
  const start = moduleIndex(model, path);
  const after = new Set(modules.slice(start).map(([, m]) => m));
  const selected = new Set<string>();
  for (const [name, m] of modules) {
    if (!after.has(m)) continue;
    for (const [param] of m.namedParameters(name)) selected.add(param);
  }
  return setTrainable(model, selected, true, options);
}

/** Where the module at `path` comes in the model's order; an InputError if the model has none there. */
export function moduleIndex(model: Module, path: string): number {
  const modules = model.namedModules();
  const index = modules.findIndex(([name]) => name === path);
  if (index < 0) {
    const layers = modules.filter(([name, m]) => name && m.namedParameters().length > 0 && !name.includes('.', name.indexOf('.') + 1)).map(([name]) => name);
    throw new InputError(`unfreezeFrom: ${model.constructor.name} has no module '${path}'; its modules with parameters are ${layers.join(', ')}`);
  }
  return index;
}

/** The transfer-learning start: everything frozen but the head (`headPath`), which trains. */
export function freezeAllButHead(model: Module, options: FreezeOptions = {}): string[] {
  const head = headPathOf(model);
  const names = model.namedParameters().map(([n]) => n);
  return [
    ...setTrainable(model, new Set(names.filter((n) => !isUnder(n, head))), false, options),
    ...setTrainable(model, new Set(names.filter((n) => isUnder(n, head))), true, options),
  ];
}

function select(model: Module, selector: Selector | readonly Selector[], what: string): Set<string> {
  const selectors = Array.isArray(selector) ? (selector as readonly Selector[]) : [selector as Selector];
  const names = model.namedParameters().map(([n]) => n);
  const selected = new Set<string>();
  for (const s of selectors) {
    const test = matchSelector(s);
    const hits = names.filter(test);
    if (hits.length === 0) throw new InputError(`${what}: ${String(s)} matches no parameter of ${model.constructor.name}`);
    for (const n of hits) selected.add(n);
  }
  return selected;
}

/** A selector as a test on parameter names (see the file comment). */
export function matchSelector(selector: Selector): (name: string) => boolean {
  if (typeof selector === 'function') return selector;
  if (selector instanceof RegExp) {
    const re = new RegExp(selector.source, selector.flags.replace(/[gy]/g, '')); // no lastIndex state
    return (name) => re.test(name);
  }
  const pattern = selector
    .split(/(\*\*|\*|\?)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^.]*' : part === '?' ? '[^.]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${pattern}(\\..*)?$`);
  return (name) => re.test(name);
}

function setTrainable(model: Module, names: ReadonlySet<string>, trainable: boolean, options: FreezeOptions): string[] {
  const changed: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (!names.has(name) || p.requiresGrad === trainable) continue;
    p.requiresGrad = trainable;
    if (!trainable) {
      // A frozen parameter must not be stepped with a gradient left from before.
      p.grad?.dispose();
      p.grad = null;
    }
    changed.push(name);
  }
  const bnMode = options.bnMode ?? 'frozen-eval';
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const params = m.namedParameters(path);
    if (params.length === 0 || !params.some(([n]) => names.has(n))) continue;
    m.statsFrozen = bnMode === 'frozen-eval' && params.every(([, p]) => !p.requiresGrad);
  }
  return changed;
}

export interface TrainableRow {
  name: string;
  shape: readonly number[];
  numel: number;
  bytes: number;
  trainable: boolean;
}

export interface ParameterTotals {
  tensors: number;
  numel: number;
  bytes: number;
}

export interface TrainableSummary {
  model: string;
  rows: TrainableRow[];
  trainable: ParameterTotals;
  frozen: ParameterTotals;
  total: ParameterTotals;
  /** BatchNorm layers (by path) normalising with running statistics because their block is frozen. */
  frozenBatchNorm: string[];
  batchNormCount: number;
}

/** What trains and what does not: per parameter, and counted (parameters and bytes). */
export function trainableSummary(model: Module): TrainableSummary {
  const rows = model.namedParameters().map(([name, p]) => ({ name, shape: p.shape, numel: p.size, bytes: p.byteSize, trainable: p.requiresGrad }));
  const sum = (list: TrainableRow[]): ParameterTotals => ({
    tensors: list.length,
    numel: list.reduce((s, r) => s + r.numel, 0),
    bytes: list.reduce((s, r) => s + r.bytes, 0),
  });
  const batchNorms = model.namedModules().filter(([, m]) => m instanceof BatchNorm2d) as [string, BatchNorm2d][];
  return {
    model: model.constructor.name,
    rows,
    trainable: sum(rows.filter((r) => r.trainable)),
    frozen: sum(rows.filter((r) => !r.trainable)),
    total: sum(rows),
    frozenBatchNorm: batchNorms.filter(([, m]) => m.statsFrozen).map(([path]) => path),
    batchNormCount: batchNorms.length,
  };
}

/**
 * The summary as text: runs of consecutive parameters with the same state are collapsed into one
 * line per run (VGG16 frozen but its head reads as two lines), then the totals.
 */
export function formatTrainableSummary(summary: TrainableSummary): string {
  const lines: string[] = [];
  let run: TrainableRow[] = [];
  const flush = () => {
    if (!run.length) return;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const names = run.length === 1 ? first.name : `${first.name} .. ${last.name}`;
    const numel = run.reduce((s, r) => s + r.numel, 0);
    lines.push(`  ${first.trainable ? 'trainable' : 'frozen   '}  ${names}  (${run.length} tensors, ${numel.toLocaleString('en-US')} parameters)`);
    run = [];
  };
  for (const row of summary.rows) {
    if (run.length && run[0]!.trainable !== row.trainable) flush();
    run.push(row);
  }
  flush();
  const describe = (t: ParameterTotals) => `${t.tensors} tensors, ${t.numel.toLocaleString('en-US')} parameters (${formatBytes(t.bytes)})`;
  const share = summary.total.numel ? ((100 * summary.trainable.numel) / summary.total.numel).toFixed(2) : '0';
  lines.unshift(`${summary.model}: ${summary.trainable.numel.toLocaleString('en-US')} of ${summary.total.numel.toLocaleString('en-US')} parameters trainable (${share}%)`);
  lines.push(`  trainable: ${describe(summary.trainable)}`, `  frozen:    ${describe(summary.frozen)}`);
  if (summary.batchNormCount) {
    lines.push(`  BatchNorm on running statistics (frozen-eval): ${summary.frozenBatchNorm.length} of ${summary.batchNormCount}`);
  }
  return lines.join('\n');
}

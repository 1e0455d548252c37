/**
 * Names each module's forward dispatches after its path, for the profiler's per-layer view: while
 * it watches, every module of the model (the model itself included) runs its `forward` under its
 * path as the dispatch label (runtime/dispatch-label.ts), so the innermost module that dispatched
 * a kernel names it: `features.0`, or `layer1.0` for a residual block's own addition. Graph nodes
 * keep that label for backward. Like PyTorch's forward hooks, the wrappers sit on the instances
 * and come off again; the model computes exactly what it did.
 */
import type { Module } from '../nn/module.js';
import { withDispatchLabel } from '../runtime/dispatch-label.js';

/** The methods a module runs its layer's work through: `forward`, and Conv2d's fused `forwardRelu`. */
const FORWARD_METHODS = ['forward', 'forwardRelu'] as const;

type Forward = (this: Module, ...args: unknown[]) => unknown;

/** Labels `model`'s forward dispatches by module path until the returned function is called. */
export function labelLayers(model: Module): () => void {
  const undo: (() => void)[] = [];
  for (const [path, module] of model.namedModules()) {
    const instance = module as unknown as Record<string, unknown>;
    for (const method of FORWARD_METHODS) {
      const inner = instance[method];
      if (typeof inner !== 'function' || Object.hasOwn(instance, method)) continue;
      instance[method] = (...args: unknown[]) => withDispatchLabel(path, () => (inner as Forward).apply(module, args));
      undo.push(() => delete instance[method]);
    }
  }
  return () => undo.forEach((restore) => restore());
}

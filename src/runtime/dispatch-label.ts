/**
 * Which layer the dispatches being recorded belong to: a module path such as `features.0`. The
 * profiler sets it around each module's forward (train/layer-labels.ts); a graph node keeps the
 * label it was made under, and backward runs the node's rule under it again
 * (autograd/backward.ts); an optimizer updates each parameter under its layer's. The recorder
 * hands it to the profiler with every timed dispatch, so a profile can say what each layer costs
 * in each phase. Outside those it is undefined, and nothing reads it unless a profile is running.
 */
let current: string | undefined;

export function dispatchLabel(): string | undefined {
  return current;
}

/** Runs `fn` with `label` as the current label (the innermost label wins), then restores the previous one. */
export function withDispatchLabel<T>(label: string | undefined, fn: () => T): T {
  const previous = current;
  current = label;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** The layer a parameter belongs to, from its path: `features.0.weight` -> `features.0`. */
export function parameterLayer(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

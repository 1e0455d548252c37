/**
 * Scopes release the intermediates a computation leaves behind, like tfjs's `tidy`:
 * every tensor created inside `tidy(fn)` is disposed when `fn` returns, except the tensors it
 * returns and those passed to `keep()`. Parameters, gradients and optimizer state are kept.
 */
interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

export function track<T extends Disposable>(tensor: T): T {
  scopes[scopes.length - 1]?.add(tensor);
  return tensor;
}

/** Takes `tensor` out of every open scope, so it outlives them. */
export function keep<T extends Disposable>(tensor: T): T {
  for (const scope of scopes) scope.delete(tensor);
  return tensor;
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new Error('tidy() takes a synchronous function; await outside of it');
  const kept = new Set<unknown>();
  collectDisposables(result, kept);
  for (const tensor of scope) {
    if (kept.has(tensor)) track(tensor); // returned: now owned by the enclosing scope
    else if (!tensor.isDisposed) tensor.dispose();
  }
  return result;
}

function collectDisposables(value: unknown, into: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || into.has(value)) return;
  if ('dispose' in value && 'isDisposed' in value) {
    into.add(value);
    return;
  }
  const items = value instanceof Map ? value.values() : Array.isArray(value) ? value : Object.values(value);
  for (const item of items) collectDisposables(item, into);
}

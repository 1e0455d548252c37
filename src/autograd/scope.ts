/**
 * Scopes release the intermediates a computation leaves behind, like tfjs's `tidy`:
 * every tensor created inside `tidy(fn)` is disposed when `fn` returns, except the tensors it
 * returns and those passed to `keep()`. Parameters, gradients and optimizer state are kept.
 */
interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /** Tensors: the graph node that made them, if any (see graph.ts). */
  readonly gradFn?: GraphNode | null;
}

interface GraphNode {
  readonly inputs: readonly { readonly gradFn: GraphNode | null }[];
  saved: { dispose(): void }[];
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
  const live = reachableNodes(kept);
  for (const tensor of scope) {
    if (kept.has(tensor)) {
      track(tensor); // returned: now owned by the enclosing scope
      continue;
    }
    if (!tensor.isDisposed) tensor.dispose();
    // A graph no returned tensor leads to can never be walked backward: free what it saved.
    const node = tensor.gradFn;
    if (node && !live.has(node)) {
      for (const t of node.saved) t.dispose();
      node.saved = [];
    }
  }
  return result;
}

function reachableNodes(roots: Set<unknown>): Set<GraphNode> {
  const seen = new Set<GraphNode>();
  const stack = [...roots].map((t) => (t as Disposable).gradFn).filter((n): n is GraphNode => !!n);
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const input of node.inputs) if (input.gradFn) stack.push(input.gradFn);
  }
  return seen;
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

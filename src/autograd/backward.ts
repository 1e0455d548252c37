import type { GradNode } from './graph.js';
import { noGrad, releaseSaved } from './graph.js';
import type { Tensor } from './tensor.js';
import { keep, tidy } from './scope.js';
import { InputError, ShapeError } from '../runtime/errors.js';
import { withDispatchLabel } from '../runtime/dispatch-label.js';

/** Adds `b` into `a`'s place: returns a + b and disposes both (used to accumulate gradients). */
export type Accumulate = (a: Tensor, b: Tensor) => Tensor;

/**
 * Reverse-mode differentiation from `root`: walks the graph in reverse topological order, asks
 * each node's rule for exactly the input gradients that are needed, and accumulates leaf
 * gradients into `.grad`. What each node saved is released as soon as its rule has run.
 */
export function runBackward(root: Tensor, seed: Tensor, accumulate: Accumulate): void {
  if (!root.requiresGrad) throw new Error(`backward(): '${root.name}' does not require a gradient (nothing it depends on does)`);
  noGrad(() => {
    const order = topologicalOrder(root.gradFn);
    const used = order.find((node) => node.released);
    if (used) {
      seed.dispose();
      // PyTorch's retain_graph has no counterpart: what a node saved goes as soon as its rule ran.
      throw new InputError(`backward(): '${root.name}' depends on a ${used.op} that an earlier backward() already went through, releasing what it saved; run the forward pass again`);
    }
    const grads = new Map<GradNode, Tensor>();
    if (root.gradFn) grads.set(root.gradFn, seed);
    else accumulateLeaf(root, seed, accumulate);

    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i]!;
      const gradOut = grads.get(node);
      grads.delete(node);
      if (!gradOut) continue;
      // The rule and the accumulation of what it returns run under the node's layer label.
      withDispatchLabel(node.label, () => backwardThrough(node, gradOut, grads, accumulate));
    }
  });
}

/** Runs `node`'s rule on its output's gradient and passes each needed input gradient on. */
function backwardThrough(node: GradNode, gradOut: Tensor, grads: Map<GradNode, Tensor>, accumulate: Accumulate): void {
  const needs = node.inputs.map((t) => t.requiresGrad);
  // The scope frees whatever the rule made besides the gradients it returns.
  const inputGrads = tidy(() => node.backward(gradOut, node.saved, needs));
  gradOut.dispose();
  releaseSaved(node);
  node.inputs.forEach((input, k) => {
    const g = inputGrads[k];
    if (!g) return;
    if (!needs[k]) {
      g.dispose();
      return;
    }
    if (g.size !== input.size) {
      throw new ShapeError(`backward of ${node.op}: gradient [${g.shape.join(', ')}] for input [${input.shape.join(', ')}]`);
    }
    if (input.gradFn) {
      const previous = grads.get(input.gradFn);
      grads.set(input.gradFn, previous ? accumulate(previous, g) : g);
    } else {
      accumulateLeaf(input, g, accumulate);
    }
  });
}

function accumulateLeaf(leaf: Tensor, grad: Tensor, accumulate: Accumulate): void {
  const shaped = grad.shape.join() === leaf.shape.join() ? grad : reshaped(grad, leaf.shape);
  leaf.grad = keep(leaf.grad ? accumulate(leaf.grad, shaped) : shaped);
}

function reshaped(t: Tensor, shape: readonly number[]): Tensor {
  const v = t.view(shape);
  t.dispose();
  return v;
}

/** The graph's nodes from `root` down, each after every node it takes an input from (the forward's order). */
export function topologicalOrder(root: GradNode | null): GradNode[] {
  const order: GradNode[] = [];
  if (!root) return order;
  const visited = new Set<GradNode>();
  // Iterative DFS: VGG16's graph is deep enough that recursion is a needless risk.
  const stack: [GradNode, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (next < node.inputs.length) {
      top[1]++;
      const child = node.inputs[next]!.gradFn;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order;
}

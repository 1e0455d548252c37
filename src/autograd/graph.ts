import type { Tensor } from './tensor.js';
import { keep } from './scope.js';
import { dispatchLabel } from '../runtime/dispatch-label.js';

/**
 * A node of the autograd graph: the operation that made a tensor, what it saved for backward,
 * and its backward rule. The rule gets the output's gradient and `needs[i]` (does input i need
 * a gradient?) and returns one gradient per input, `null` where none is needed, so a gradient
 * nobody asked for is never computed.
 */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Handles on the tensors the rule reads; released once backward has run. */
  saved: Tensor[];
  /** Set when backward has run through the node and released what it saved: it cannot run again. */
  released?: boolean;
  readonly backward: BackwardRule;
  /** The layer the operation ran in (runtime/dispatch-label.ts): its backward's dispatches are that layer's too. */
  readonly label?: string;
}

export type BackwardRule = (gradOutput: Tensor, saved: readonly Tensor[], needs: readonly boolean[]) => (Tensor | null)[];

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording a graph: nothing saved for backward, no backward possible. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Attaches `rule` to `output` if any input needs a gradient; otherwise records nothing and saves
 * nothing. This is where a frozen base becomes cheap: with no input requiring a gradient, an
 * operation keeps no activations alive and contributes no backward work.
 */
export function record(op: string, output: Tensor, inputs: readonly Tensor[], save: readonly Tensor[], rule: BackwardRule): Tensor {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return output;
  // Saved handles belong to the graph, not to the scope the forward ran in: a forward inside
  // tidy() followed by backward() outside it must still find them.
  output.attachGradFn({ op, inputs, saved: save.map((t) => keep(t.share())), backward: rule, label: dispatchLabel() });
  return output;
}

export function releaseSaved(node: GradNode): void {
  if (node.saved.length > 0) node.released = true; // a rule that saved nothing can run again
  for (const t of node.saved) t.dispose();
  node.saved = [];
}

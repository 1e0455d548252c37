/**
 * What backward keeps alive, layer by layer: the activations each graph node saved during the
 * forward, summed under the node's dispatch label (the layer it ran in: runtime/dispatch-label.ts).
 * A tensor saved twice (a ReLU's output that the next convolution saves as its input) is one
 * buffer and counts once, for the layer that saved it first; what lives on anyway (the weights,
 * the batch: `heldAnyway`) does not count. Read between the forward and the backward, which
 * releases each node's saved tensors as it goes. A frozen layer saves nothing: the operations
 * under it record no node at all (autograd/graph.ts).
 */
import type { Tensor } from '../autograd/tensor.js';
import { topologicalOrder } from '../autograd/backward.js';

/** Bytes of activations saved for backward by each layer label (undefined: a node made outside any label). */
export function savedBytesByLayer(root: Tensor, heldAnyway: readonly Tensor[]): Map<string | undefined, number> {
  const counted = new Set<GPUBuffer>(heldAnyway.map((t) => t.buffer));
  const bytes = new Map<string | undefined, number>();
  for (const node of topologicalOrder(root.gradFn)) {
    for (const t of node.saved) {
      if (counted.has(t.buffer)) continue;
      counted.add(t.buffer);
      bytes.set(node.label, (bytes.get(node.label) ?? 0) + t.byteSize);
    }
  }
  return bytes;
}

/**
 * A counter of the changes after which a layer with frozen parameters may compute something new:
 * a parameter frozen or unfrozen, weights loaded into a module, a BatchNorm's statistics frozen
 * or released. An optimiser step is not one of them (it writes trainable parameters only).
 * Whatever keeps a frozen layer's outputs (train/feature-cache.ts) is valid while it holds.
 */
let generation = 0;

export function frozenGeneration(): number {
  return generation;
}

export function bumpFrozenGeneration(): void {
  generation++;
}

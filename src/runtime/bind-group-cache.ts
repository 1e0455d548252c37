import { ObjectIds } from './object-ids.js';

/**
 * Reuses bind groups across training steps.
 *
 * A step records the same dispatches every time, and the buffer pool hands out the same buffers
 * in the same order (a bucket gives its oldest free buffer first), so a step's bind groups, the
 * kernel's layout plus exact buffer ranges, recur from one step to the next. `createBindGroup`
 * is the costliest call of recording: about 50 µs each on lavapipe, against 8 µs for
 * setPipeline + setBindGroup + dispatch together. VGG16's step makes ~150 of them.
 *
 * The key is the layout and every entry's (binding, buffer, offset, size), with objects numbered
 * on first sight. The least recently used groups are dropped past `capacity`. A destroyed buffer
 * is never bound again (the pool forgets it), so its groups are never hit and age out.
 */
export class BindGroupCache {
  private readonly ids = new ObjectIds();
  /** Map iteration order is insertion order: a hit re-inserts, so the first key is the oldest. */
  private readonly groups = new Map<string, GPUBindGroup>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly capacity = 4096,
  ) {}

  get(layout: GPUBindGroupLayout, entries: readonly GPUBindGroupEntry[]): GPUBindGroup {
    let key = `${this.ids.of(layout)}`;
    for (const entry of entries) {
      const range = entry.resource as GPUBufferBinding;
      key += `|${entry.binding}:${this.ids.of(range.buffer)}:${range.offset ?? 0}:${range.size ?? ''}`;
    }
    let group = this.groups.get(key);
    if (group) {
      this.hits++;
      this.groups.delete(key);
    } else {
      this.misses++;
      group = this.device.createBindGroup({ layout, entries: entries as GPUBindGroupEntry[] });
      if (this.groups.size >= this.capacity) this.groups.delete(this.groups.keys().next().value!);
    }
    this.groups.set(key, group);
    return group;
  }

  get size(): number {
    return this.groups.size;
  }

  clear(): void {
    this.groups.clear();
  }
}

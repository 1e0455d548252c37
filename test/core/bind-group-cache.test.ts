import { describe, expect, it } from 'vitest';
import { BindGroupCache } from '../../src/runtime/bind-group-cache.js';

// The cache's keying and eviction, on a stand-in device that counts createBindGroup calls (the
// real one is covered by the step invariants: no bind group created after warm-up).
function fakeDevice() {
  let created = 0;
  const device = { createBindGroup: () => ({ id: ++created }) } as unknown as GPUDevice;
  return { device, created: () => created };
}

const layout = {} as GPUBindGroupLayout;
const buffers = [{}, {}, {}] as GPUBuffer[];
const entries = (buffer: GPUBuffer, offset = 0, size = 256): GPUBindGroupEntry[] => [{ binding: 0, resource: { buffer, offset, size } }];

describe('bind-group cache', () => {
  it('returns the same group for the same layout and ranges, a new one when any range differs', () => {
    const { device, created } = fakeDevice();
    const cache = new BindGroupCache(device);
    const a = cache.get(layout, entries(buffers[0]!));
    expect(cache.get(layout, entries(buffers[0]!))).toBe(a);
    expect(cache.get(layout, entries(buffers[0]!, 256))).not.toBe(a); // offset
    expect(cache.get(layout, entries(buffers[0]!, 0, 512))).not.toBe(a); // size
    expect(cache.get(layout, entries(buffers[1]!))).not.toBe(a); // buffer
    expect(cache.get({} as GPUBindGroupLayout, entries(buffers[0]!))).not.toBe(a); // layout
    expect(created()).toBe(5);
    expect([cache.hits, cache.misses]).toEqual([1, 5]);
  });

  it('drops the least recently used group past its capacity', () => {
    const { device, created } = fakeDevice();
    const cache = new BindGroupCache(device, 2);
    const first = cache.get(layout, entries(buffers[0]!));
    cache.get(layout, entries(buffers[1]!));
    cache.get(layout, entries(buffers[0]!)); // a hit: the first is now the most recent
    cache.get(layout, entries(buffers[2]!)); // evicts the second
    expect(cache.size).toBe(2);
    expect(cache.get(layout, entries(buffers[0]!))).toBe(first);
    cache.get(layout, entries(buffers[1]!)); // evicted before: created again
    expect(created()).toBe(4);
  });
});

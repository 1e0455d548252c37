/**
 * WebGPU caps each dispatch dimension at `maxComputeWorkgroupsPerDimension` (65,535 on most
 * adapters). A 1-D launch of more workgroups is folded into x and y; kernels recover the linear
 * workgroup index as `wg.x + wg.y * num_workgroups.x` (see `linearIndex` in kernels/wgsl.ts)
 * and skip the few extra invocations past the end.
 */
export function foldWorkgroups(count: readonly [number, number, number], maxPerDimension: number): [number, number, number] {
  let [x, y, z] = count;
  if (x > maxPerDimension) {
    y *= Math.ceil(x / maxPerDimension);
    x = Math.ceil(x / Math.ceil(x / maxPerDimension));
  }
  if (y > maxPerDimension) {
    z *= Math.ceil(y / maxPerDimension);
    y = Math.ceil(y / Math.ceil(y / maxPerDimension));
  }
  if (z > maxPerDimension) {
    throw new Error(`dispatch of ${count.join('x')} workgroups does not fit ${maxPerDimension} per dimension even when folded`);
  }
  return [x, y, z];
}

import type { GpuContext } from '../runtime/context.js';
import { unroll } from './conv2d-common.js';

/**
 * Values that every lane of a workgroup reads at the same index, shared through subgroup
 * broadcasts instead of each lane reading them.
 *
 * The blocked kernels (the CPU adapters' convolution forward, input gradient and weight gradient)
 * stage one operand in workgroup memory, and every lane reads the same values from it: the
 * filters, or the rows of dy. On lavapipe such a read costs what a gather does. Its compiler
 * (gallivm) reads workgroup memory lane by lane inside any loop, checking each lane's execution
 * mask, because it cannot tell that the first lane is active there. In the weight gradient those
 * reads were half the kernel's time: replaced by constants (timing only), three of VGG16's layer
 * shapes at 64x64 ran 2.2-2.6x faster (bench/README.md, "Shared reads through subgroups").
 *
 * A subgroup is the lanes that run together (8 on lavapipe's 256-bit code, 4 on SwiftShader).
 * Shared, each lane reads 1/S of a step's values and `subgroupBroadcast` with a constant lane
 * hands each value to every lane from a register, with no memory read. The values and the
 * arithmetic are the same, so the results are the same bits.
 *
 * Used where the device has the 'subgroups' feature, its adapter reports one subgroup size (a
 * kernel is written for it), and the context picks the CPU kernels; GPUs keep their workgroup
 * memory reads, which are broadcasts in hardware. `subgroups: false` (WGT_SUBGROUPS=off) turns it
 * off, to compare.
 */

/** The subgroup size the blocked kernels share reads across, or null: each lane reads for itself. */
export function sharingLanes(ctx: GpuContext): number | null {
  return ctx.kernelTarget === 'cpu' ? ctx.subgroupSize : null;
}

/** WGSL: what a kernel that shares reads declares first. */
export const enableSubgroups = (lanes: number | null): string => (lanes ? 'enable subgroups;' : '');

/** WGSL: the entry point parameter that `sharedReads` uses (after the others, with its comma). */
export const subgroupLaneParameter = (lanes: number | null): string => (lanes ? ', @builtin(subgroup_invocation_id) subgroup_lane: u32' : '');

/**
 * Reads of items 0 .. count - 1 that are the same for every lane; `read(item)` is the WGSL
 * expression reading item `item` (a u32 expression). Without `lanes`, `value(i)` is that read
 * itself and `loads` is empty. With `lanes`, `loads` has lane L of each subgroup read items
 * L·n .. L·n + n - 1 (n = count / lanes, rounded up; past the end it reads the last again) into
 * `${prefix}0 .. ${prefix}{n-1}`, and `value(i)` broadcasts item i from lane i / n. Every lane of
 * the subgroup must run both (uniform control flow, which WGSL's uniformity analysis checks when
 * the kernel is compiled).
 */
export function sharedReads(options: {
  lanes: number | null;
  count: number;
  read: (item: string) => string;
  prefix: string;
  separator?: string;
}): { loads: string; value: (i: number) => string } {
  const { lanes, count, read, prefix, separator = '\n' } = options;
  if (!lanes) return { loads: '', value: (i) => read(`${i}u`) };
  const perLane = Math.ceil(count / lanes);
  return {
    loads: unroll(perLane, (j) => `let ${prefix}${j} = ${read(`min(subgroup_lane * ${perLane}u + ${j}u, ${count - 1}u)`)};`, separator),
    value: (i) => `subgroupBroadcast(${prefix}${i % perLane}, ${Math.floor(i / perLane)}u)`,
  };
}

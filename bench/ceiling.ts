// The adapter's ceilings alone: the multiply-add, copy and read rates that `npm run bench` and
// `profile --ceiling` measure every kernel's rate against (src/kernels/ceiling.ts).
//   npx tsx bench/ceiling.ts [--samples N]
import { initNode, adapterLabel } from '../src/node.js';
import { describeCeilings, measureCeilings } from '../src/kernels/ceiling.js';

const at = process.argv.indexOf('--samples');
const samples = at >= 0 ? Number(process.argv[at + 1]) : 3;
const ctx = await initNode();
console.log(`adapter: ${adapterLabel(ctx.adapter)}`);
const c = await measureCeilings(ctx, { samples });
for (const r of c.fma) {
  console.log(`multiply-adds, ${r.chains} vec4 chains per invocation, ${r.invocations} invocations x ${r.iterations} iterations: ${r.ms.toFixed(1)} ms, ${r.gflops.toFixed(1)} GFLOP/s`);
}
for (const [what, r] of [['copy', c.copy], ['read', c.read]] as const) {
  console.log(`${what} of ${(r.bytes / 2 ** 20).toFixed(0)} MiB by ${r.workgroups} workgroups (the fastest count tried), ${r.repeats} time(s) per run: ${r.ms.toFixed(1)} ms`);
}
console.log(`ceilings: ${describeCeilings(c)}`);
ctx.destroy();

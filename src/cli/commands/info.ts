import type { Command } from '../command.js';
import { initNode, adapterLabel } from '../../node.js';
import { describeCeilings, measureCeilings } from '../../kernels/ceiling.js';

export const info: Command = {
  name: 'info',
  summary: 'Print the WebGPU adapter the engine runs on: vendor, architecture, description, features and limits.',
  usage: '[--json] [--ceiling] [--adapter NAME]',
  help: [
    '  --json          machine-readable output',
    '  --ceiling       also measure what the adapter does at best: multiply-adds, a copy, a read (a few seconds)',
    '  --adapter NAME  lavapipe | swiftshader | a substring of the adapter name (default: WGT_ADAPTER, else the best adapter)',
  ].join('\n'),
  options: { json: { type: 'boolean' }, ceiling: { type: 'boolean' }, adapter: { type: 'string' } },
  async run(args) {
    const ctx = await initNode({ adapter: args.values.adapter as string | undefined });
    const a = ctx.adapter;
    const ceilings = args.values.ceiling ? await measureCeilings(ctx) : null;
    if (args.values.json) {
      console.log(JSON.stringify(ceilings ? { ...a, ceilings } : a, null, 2));
    } else {
      console.log(`adapter:      ${adapterLabel(a)}`);
      console.log(`vendor:       ${a.vendor || '-'}`);
      console.log(`architecture: ${a.architecture || '-'}`);
      console.log(`device:       ${a.device || '-'}`);
      console.log(`description:  ${a.description || '-'}`);
      console.log(`software:     ${a.isSoftware ? 'yes (a CPU implementation: its timings say nothing about GPUs)' : 'no'}`);
      if (ceilings) console.log(`ceiling:      ${describeCeilings(ceilings)} (measured now)`);
      console.log(`features:     ${a.features.join(', ')}`);
      console.log('limits:');
      for (const [name, value] of Object.entries(a.limits)) console.log(`  ${name.padEnd(44)} ${value}`);
    }
    ctx.destroy();
  },
};

import { stringOption, UsageError, type Command } from '../command.js';
import { scanDataset, formatScanReport } from '../../data/scan.js';

export const scan: Command = {
  name: 'scan',
  summary: 'Check an image folder: images per class, and every bad file (empty, truncated, not an image...) with the reason.',
  usage: 'DIR | --data DIR [--header-only] [--json]',
  help: [
    '  --data DIR     the folder (as train, eval and augment take it), or give it as the argument',
    '  --header-only  check headers only (fast), not a full decode',
    '  --json         machine-readable output',
  ].join('\n'),
  options: { data: { type: 'string' }, 'header-only': { type: 'boolean' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(args) {
    const dirs = [stringOption(args, 'data'), ...args.positionals].filter((d) => d !== undefined);
    if (dirs.length !== 1) throw new UsageError('expects exactly one folder: DIR or --data DIR');
    const dir = dirs[0]!;
    const report = await scanDataset(dir, { check: args.values['header-only'] ? 'header' : 'decode' });
    console.log(args.values.json ? JSON.stringify(report, null, 2) : formatScanReport(report));
  },
};

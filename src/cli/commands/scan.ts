import { UsageError, type Command } from '../command.js';
import { scanDataset, formatScanReport } from '../../data/scan.js';

export const scan: Command = {
  name: 'scan',
  summary: 'Check an image folder: images per class, and every bad file (empty, truncated, not an image...) with the reason.',
  usage: 'DIR [--header-only] [--json]',
  help: '  --header-only  check headers only (fast), not a full decode\n  --json         machine-readable output',
  options: { 'header-only': { type: 'boolean' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(args) {
    const [dir, ...extra] = args.positionals;
    if (!dir || extra.length) throw new UsageError('expects exactly one folder');
    const report = await scanDataset(dir, { check: args.values['header-only'] ? 'header' : 'decode' });
    console.log(args.values.json ? JSON.stringify(report, null, 2) : formatScanReport(report));
  },
};

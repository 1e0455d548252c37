// How long a weight file takes to load, and how much memory it costs, reading one tensor at a
// time as the model does (read, hand off, drop). Peak RSS near "largest tensor + baseline" means
// the file is never held whole; near "file size" would mean it is.
//
//   npx tsx bench/weights-load.ts FILE

import { describeWeights } from '../src/models/formats/describe.js';
import { openWeightsFile } from '../src/models/formats/node-file-source.js';

const MB = 1024 * 1024;

async function main(path: string | undefined): Promise<void> {
  if (!path) throw new Error('usage: npx tsx bench/weights-load.ts FILE');
  const baselineRss = process.memoryUsage().rss;
  const opened = performance.now();
  const file = await openWeightsFile(path);
  const openMs = performance.now() - opened;
  const { totals, rows } = describeWeights(file);
  const largest = Math.max(...rows.map((row) => row.numel * 4));

  let checksum = 0; // keeps each read from being optimised away
  const started = performance.now();
  for (const name of file.entries.keys()) {
    const values = await file.read(name);
    checksum += values[0] ?? 0;
  }
  const readMs = performance.now() - started;
  await file.close();

  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(`${file.name}: ${file.format}, ${totals.tensors} tensors, ${totals.numel.toLocaleString('en-US')} elements, ${(totals.bytes / MB).toFixed(1)} MiB`);
  console.log(`open (headers, pickle, storage table): ${openMs.toFixed(1)} ms`);
  console.log(`read every tensor as float32:          ${readMs.toFixed(0)} ms (${(totals.bytes / MB / (readMs / 1000)).toFixed(0)} MiB/s)`);
  console.log(`RSS before open ${(baselineRss / MB).toFixed(0)} MiB, peak ${(peakRss / MB).toFixed(0)} MiB, largest tensor as float32 ${(largest / MB).toFixed(0)} MiB`);
  console.log(`checksum ${checksum}`);
}

await main(process.argv[2]);

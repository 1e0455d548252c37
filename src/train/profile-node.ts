// Node only: writes a profile's Chrome trace (see profile.ts) to a file.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChromeTrace } from './profile.js';

/** Writes `trace` as JSON; chrome://tracing and https://ui.perfetto.dev open the file. */
export async function writeChromeTrace(path: string, trace: ChromeTrace): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(trace));
}

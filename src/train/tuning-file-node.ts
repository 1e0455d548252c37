/**
 * `train --tune-kernels` keeps what it measured in a file, so that the next run on the same
 * adapter with the same engine times only the layers it has not met before (another batch or
 * image size makes other layers). The tuner's choices change the speed, never a result
 * (kernels/conv2d-tile.ts), so a stale choice could only cost time: still, choices carry over only
 * between runs of the same adapter (its label: vendor, driver, device) and the same engine
 * (version and commit), and a tree with uncommitted changes to the engine neither reads nor
 * writes them, since its kernels may not be the commit's.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GpuContext } from '../runtime/context.js';
import { adapterLabel } from '../runtime/adapter.js';
import { InputError } from '../runtime/errors.js';
import { sourceVersion } from '../runtime/source-version.js';
import { measuredChoices, restoreChoices, tileName, weightGradTileName, type ConvTile, type TunedChoices, type WeightGradTile } from '../kernels/conv2d-tile.js';
import { TILE_CANDIDATES, WEIGHT_GRAD_TILE_CANDIDATES } from '../kernels/conv2d-tuning.js';

const FORMAT = 'webgpu-transfer conv tuning';
/** Entries kept: the most recently written first (each commit of the engine makes a new one). */
const MAX_ENTRIES = 16;

interface TuningFile {
  format: typeof FORMAT;
  entries: TuningEntry[];
}

interface TuningEntry {
  adapter: string;
  engine: string;
  choices: TunedChoices;
}

/** Who measured: this adapter and this engine; null when the engine has uncommitted changes. */
export interface TuningIdentity {
  adapter: string;
  engine: string;
}

/** `$XDG_CACHE_HOME/webgpu-transfer/conv-tuning.json`, or under `~/.cache`. */
export function defaultTuningFile(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-transfer', 'conv-tuning.json');
}

export function tuningIdentity(ctx: GpuContext): TuningIdentity | null {
  const version = sourceVersion();
  if (version.dirty) return null;
  return { adapter: adapterLabel(ctx.adapter), engine: `${version.version} ${version.commit}` };
}

/**
 * Restores into `ctx` the choices the file holds for `identity`; returns how many. A missing file
 * holds none; a file that is not one of ours is refused (it is about to be written over).
 */
export async function loadTuning(ctx: GpuContext, path: string, identity: TuningIdentity): Promise<number> {
  const entry = (await readTuningFile(path)).entries.find((e) => e.adapter === identity.adapter && e.engine === identity.engine);
  if (!entry) return 0;
  checkChoices(path, entry.choices);
  restoreChoices(ctx, entry.choices);
  return Object.keys(entry.choices.tiles).length + Object.keys(entry.choices.algorithms).length;
}

/** Writes `ctx`'s choices as `identity`'s entry (atomically: a temporary file, then renamed). */
export async function saveTuning(ctx: GpuContext, path: string, identity: TuningIdentity): Promise<void> {
  const file = await readTuningFile(path);
  const others = file.entries.filter((e) => !(e.adapter === identity.adapter && e.engine === identity.engine));
  const entries = [{ ...identity, choices: measuredChoices(ctx) }, ...others].slice(0, MAX_ENTRIES);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ format: FORMAT, entries } satisfies TuningFile, null, 1)}\n`);
  await rename(temporary, path);
}

/** Every choice must be a tile or algorithm the tuner offers: a hand-edited file could hold any value. */
function checkChoices(path: string, choices: TunedChoices): void {
  const known = new Set([...TILE_CANDIDATES.map(tileName), ...WEIGHT_GRAD_TILE_CANDIDATES.map(weightGradTileName)]);
  const name = (tile: ConvTile | WeightGradTile) => ('taps' in tile ? weightGradTileName(tile) : tileName(tile));
  for (const [key, tile] of Object.entries(choices?.tiles ?? {})) {
    if (typeof tile !== 'object' || tile === null || !known.has(name(tile)) || Object.keys(tile).length !== ('taps' in tile ? 2 : 3)) {
      throw new InputError(`${path}: the tile ${JSON.stringify(tile)} for '${key}' is not one this engine has; remove the file, or give --tuning-file another path`);
    }
  }
  for (const [key, algorithm] of Object.entries(choices?.algorithms ?? {})) {
    if (algorithm !== 'direct' && algorithm !== 'winograd') {
      throw new InputError(`${path}: the algorithm ${JSON.stringify(algorithm)} for '${key}' is not one this engine has; remove the file, or give --tuning-file another path`);
    }
  }
}

async function readTuningFile(path: string): Promise<TuningFile> {
  if (!existsSync(path)) return { format: FORMAT, entries: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new InputError(`${path}: not a kernel tuning file (${error instanceof Error ? error.message : String(error)}); remove it, or give --tuning-file another path`);
  }
  const file = parsed as Partial<TuningFile> | null;
  if (file?.format !== FORMAT || !Array.isArray(file.entries)) {
    throw new InputError(`${path}: not a kernel tuning file (no "format": "${FORMAT}"); remove it, or give --tuning-file another path`);
  }
  return file as TuningFile;
}

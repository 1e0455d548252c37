// A ByteSource over a file on disk, read with positioned reads. Kept apart from byte-source.ts so
// that browser bundles never import `fs`.

import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkRange, type ByteSource } from './byte-source.js';
import { TruncatedFileError } from './errors.js';
import { openWeights } from './open-weights.js';
import type { WeightFile } from './weight-file.js';

/** A single read() call is capped by Node at 2 GiB; one tensor can be larger. */
const MAX_READ_BYTES = 1 << 30;

export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  try {
    return new FileSource(handle, (await handle.stat()).size, basename(path));
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class FileSource implements ByteSource {
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly name: string,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const bytes = new Uint8Array(length);
    for (let filled = 0; filled < length; ) {
      const chunk = Math.min(length - filled, MAX_READ_BYTES);
      const { bytesRead } = await this.handle.read(bytes, filled, chunk, offset + filled);
      if (bytesRead === 0) throw new TruncatedFileError(this.name, undefined, `file shrank while reading at ${offset + filled}`);
      filled += bytesRead;
    }
    return bytes;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Opens a weight file on disk; closing the WeightFile closes the file handle. */
export async function openWeightsFile(path: string): Promise<WeightFile> {
  const source = await openFileSource(path);
  try {
    return await openWeights(source);
  } catch (error) {
    await source.close?.();
    throw error;
  }
}

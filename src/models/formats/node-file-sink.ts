// Writes encoded chunks (from encodeSafetensors, streamSafetensors or encodePytorchZip) to disk one
// after another, so the file is never assembled in memory. Node only, like node-file-source.ts.

import { open, rename, rm } from 'node:fs/promises';

export interface WriteOptions {
  /** Flush the file to the disk before it takes the name (a checkpoint that must survive a crash). */
  sync?: boolean;
}

/**
 * Writes the chunks to a temporary file beside `path`, then renames it over `path`. Each chunk is
 * written before the next is asked for, so they may be transient (streamSafetensors). A crash or an
 * error at any moment (a chunk that fails to encode, a GPU lost mid-readback) leaves either the
 * previous file or the new one, never a part, and no temporary file behind.
 */
export async function writeChunksToFile(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w');
  try {
    for await (const chunk of chunks) {
      for (let written = 0; written < chunk.byteLength; ) {
        written += (await handle.write(chunk, written, chunk.byteLength - written)).bytesWritten;
      }
    }
    if (options.sync) await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}

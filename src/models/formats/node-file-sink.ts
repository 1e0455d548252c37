// Writes encoded chunks (from encodeSafetensors or encodePytorchZip) to disk one after another,
// so the file is never assembled in memory. Node only, like node-file-source.ts.

import { open } from 'node:fs/promises';

export async function writeChunksToFile(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (const chunk of chunks) {
      for (let written = 0; written < chunk.byteLength; ) {
        written += (await handle.write(chunk, written, chunk.byteLength - written)).bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
}

// Random access to the bytes of a weight file. Parsers only ever ask for the ranges they need,
// so the same code reads a Node file handle, a browser File/Blob, or bytes already in memory.

import { TruncatedFileError } from './errors.js';

export interface ByteSource {
  readonly size: number;
  /** Used in error messages. */
  readonly name: string;
  /**
   * Returns a fresh buffer owned by the caller (never a view of shared memory), so a tensor can
   * be viewed in place as a typed array and handed off without another copy.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

export function checkRange(source: ByteSource, offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > source.size) {
    throw new TruncatedFileError(
      source.name,
      undefined,
      `read of ${length} bytes at ${offset} runs past the end of the file (${source.size} bytes)`,
    );
  }
}

export function bytesSource(bytes: Uint8Array, name = 'memory'): ByteSource {
  return {
    size: bytes.byteLength,
    name,
    async read(offset, length) {
      checkRange(this, offset, length);
      return bytes.slice(offset, offset + length);
    },
  };
}

/** A browser `File` (from an <input> or drag and drop) is a Blob; slicing it reads lazily. */
export function blobSource(blob: Blob, name = blob instanceof File ? blob.name : 'blob'): ByteSource {
  return {
    size: blob.size,
    name,
    async read(offset, length) {
      checkRange(this, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

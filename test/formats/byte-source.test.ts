// The three byte sources read the same bytes, hand out buffers the caller owns, and refuse
// reads past the end.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobSource, bytesSource, type ByteSource } from '../../src/models/formats/byte-source.js';
import { TruncatedFileError } from '../../src/models/formats/errors.js';
import { openFileSource } from '../../src/models/formats/node-file-source.js';

const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);

/** One source of the kind (only the file source holds a handle, closed by the test). */
async function sourceOf(kind: string): Promise<ByteSource> {
  if (kind === 'memory') return bytesSource(BYTES, 'bytes.bin');
  if (kind === 'blob') return blobSource(new Blob([BYTES]), 'bytes.bin');
  const path = join(mkdtempSync(join(tmpdir(), 'wgt-')), 'bytes.bin');
  writeFileSync(path, BYTES);
  return openFileSource(path);
}

describe.each(['memory', 'blob', 'file'])('%s source', (kind) => {
  it('reads ranges, owns its buffers, refuses reads past the end', async () => {
    const source = await sourceOf(kind);
    expect(source.size).toBe(1000);
    expect(source.name).toBe('bytes.bin');
    const range = await source.read(990, 10);
    expect(range).toEqual(BYTES.subarray(990));
    expect(range.byteOffset).toBe(0);
    range.fill(0);
    expect(await source.read(990, 10)).toEqual(BYTES.subarray(990));
    expect(await source.read(1000, 0)).toEqual(new Uint8Array());
    const past = source.read(995, 10);
    await expect(past).rejects.toThrow(TruncatedFileError);
    await expect(past).rejects.toThrow('bytes.bin: read of 10 bytes at 995 runs past the end of the file (1000 bytes)');
    await source.close?.();
  });
});

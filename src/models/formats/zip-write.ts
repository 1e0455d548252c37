// Writes an uncompressed zip the way PyTorch does: each record's data starts on a 64-byte
// boundary (padding hides in a local-header extra field), and the zip64 end records are always
// present. Every entry also carries zip64 sizes and offset, so files past 4 GiB take the same
// path as small ones.

import { crc32 } from './crc32.js';

export interface ZipRecord {
  readonly name: string;
  readonly data: Uint8Array;
}

const ALIGNMENT = 64;
const VERSION_ZIP64 = 45;
const ZIP64_MARK = 0xffffffff;
const ZIP64_EXTRA = 0x0001;
/** The extra-field id PyTorch uses for its alignment padding ("FB"). */
const PADDING_EXTRA = 0x4246;
/** 1980-01-01 00:00, the earliest DOS date: a fixed stamp keeps output reproducible. */
const DOS_DATE = (1 << 5) | 1;

/** The archive as chunks; record data is referenced, not copied. */
export function encodeZip(records: readonly ZipRecord[]): Uint8Array[] {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const directory: Uint8Array[] = [];
  let offset = 0;
  const emit = (chunk: Uint8Array) => {
    chunks.push(chunk);
    offset += chunk.byteLength;
  };

  for (const { name, data } of records) {
    const nameBytes = encoder.encode(name);
    const crc = crc32(data);
    const headerOffset = offset;
    const unpadded = headerOffset + 30 + nameBytes.byteLength + 20 + 4;
    const padding = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;

    const local = new Builder(30 + nameBytes.byteLength + 20 + 4 + padding);
    local.u32(0x04034b50).u16(VERSION_ZIP64).u16(0).u16(0).u16(0).u16(DOS_DATE);
    local.u32(crc).u32(ZIP64_MARK).u32(ZIP64_MARK).u16(nameBytes.byteLength).u16(20 + 4 + padding);
    local.bytes(nameBytes);
    local.u16(ZIP64_EXTRA).u16(16).u64(data.byteLength).u64(data.byteLength);
    local.u16(PADDING_EXTRA).u16(padding).skip(padding);
    emit(local.done());
    emit(data);

    const entry = new Builder(46 + nameBytes.byteLength + 28);
    entry.u32(0x02014b50).u16(VERSION_ZIP64).u16(VERSION_ZIP64).u16(0).u16(0).u16(0).u16(DOS_DATE);
    entry.u32(crc).u32(ZIP64_MARK).u32(ZIP64_MARK).u16(nameBytes.byteLength).u16(28).u16(0);
    entry.u16(0).u16(0).u32(0).u32(ZIP64_MARK);
    entry.bytes(nameBytes);
    entry.u16(ZIP64_EXTRA).u16(24).u64(data.byteLength).u64(data.byteLength).u64(headerOffset);
    directory.push(entry.done());
  }

  const directoryOffset = offset;
  for (const entry of directory) emit(entry);
  const directorySize = offset - directoryOffset;
  const zip64EndOffset = offset;
  const end = new Builder(56 + 20 + 22);
  end.u32(0x06064b50).u64(44).u16(VERSION_ZIP64).u16(VERSION_ZIP64).u32(0).u32(0);
  end.u64(records.length).u64(records.length).u64(directorySize).u64(directoryOffset);
  end.u32(0x07064b50).u32(0).u64(zip64EndOffset).u32(1);
  // The classic end record repeats what fits in its narrow fields; readers take the rest from zip64.
  const count = Math.min(records.length, 0xffff);
  end.u32(0x06054b50).u16(0).u16(0).u16(count).u16(count);
  end.u32(Math.min(directorySize, ZIP64_MARK)).u32(Math.min(directoryOffset, ZIP64_MARK)).u16(0);
  emit(end.done());
  return chunks;
}

/** Little-endian fields into a fixed-size buffer. */
class Builder {
  private readonly buffer: Uint8Array;
  private readonly view: DataView;
  private at = 0;

  constructor(size: number) {
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
  }

  u16(value: number): this {
    this.view.setUint16(this.at, value, true);
    this.at += 2;
    return this;
  }

  u32(value: number): this {
    this.view.setUint32(this.at, value >>> 0, true);
    this.at += 4;
    return this;
  }

  u64(value: number): this {
    this.view.setBigUint64(this.at, BigInt(value), true);
    this.at += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.buffer.set(value, this.at);
    this.at += value.byteLength;
    return this;
  }

  skip(count: number): this {
    this.at += count;
    return this;
  }

  done(): Uint8Array {
    if (this.at !== this.buffer.byteLength) throw new Error(`zip record built ${this.at} of ${this.buffer.byteLength} bytes`);
    return this.buffer;
  }
}

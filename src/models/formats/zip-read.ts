// Just enough of the zip format to find PyTorch's records: the central directory at the end of
// the file (through the zip64 records when sizes or offsets pass 4 GiB), then each record's
// local header, whose name and extra-field lengths decide where its bytes start. PyTorch stores
// records uncompressed, so a record's bytes can be read in place, one tensor at a time.

import type { ByteSource } from './byte-source.js';
import { CorruptHeaderError, TruncatedFileError, UnsupportedFeatureError } from './errors.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored; anything else is compressed. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_EXTRA = 0x0001;
const END_RECORD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const LOCAL_HEADER_BYTES = 30;
/** A 32-bit field holding this value means "see the zip64 record". */
const ZIP64_MARK = 0xffffffff;

const decoder = new TextDecoder();

export async function readZipDirectory(source: ByteSource): Promise<ZipEntry[]> {
  const file = source.name;
  if (source.size < END_RECORD_BYTES) throw new TruncatedFileError(file, undefined, 'too short for a zip end record');
  const tailLength = Math.min(source.size, END_RECORD_BYTES + MAX_COMMENT_BYTES);
  const tailStart = source.size - tailLength;
  const tail = view(await source.read(tailStart, tailLength));
  const endAt = findEndRecord(tail);
  if (endAt < 0) throw new CorruptHeaderError(file, undefined, 'zip end-of-directory record not found (truncated file?)');

  let count = tail.getUint16(endAt + 10, true);
  let directorySize = tail.getUint32(endAt + 12, true);
  let directoryOffset = tail.getUint32(endAt + 16, true);
  const locatorAt = endAt - 20;
  if (locatorAt >= 0 && tail.getUint32(locatorAt, true) === ZIP64_END_LOCATOR) {
    const recordOffset = u64(tail, locatorAt + 8);
    if (recordOffset + 56 > source.size) throw new TruncatedFileError(file, undefined, 'zip64 end record past the end of the file');
    const record = view(await source.read(recordOffset, 56));
    if (record.getUint32(0, true) !== ZIP64_END_OF_DIRECTORY) throw new CorruptHeaderError(file, undefined, 'bad zip64 end record');
    count = u64(record, 32);
    directorySize = u64(record, 40);
    directoryOffset = u64(record, 48);
  }
  if (directoryOffset + directorySize > source.size) {
    throw new TruncatedFileError(file, undefined, `zip central directory [${directoryOffset}, +${directorySize}) is past the end of the file`);
  }
  const directory = view(await source.read(directoryOffset, directorySize));
  const entries: ZipEntry[] = [];
  for (let at = 0; entries.length < count; ) {
    if (at + 46 > directory.byteLength || directory.getUint32(at, true) !== DIRECTORY_ENTRY) {
      throw new CorruptHeaderError(file, undefined, `zip central directory entry ${entries.length} is malformed`);
    }
    const nameLength = directory.getUint16(at + 28, true);
    const extraLength = directory.getUint16(at + 30, true);
    const commentLength = directory.getUint16(at + 32, true);
    const nameStart = at + 46;
    const next = nameStart + nameLength + extraLength + commentLength;
    if (next > directory.byteLength) throw new CorruptHeaderError(file, undefined, `zip central directory entry ${entries.length} overruns the directory`);
    const name = decoder.decode(bytesOf(directory, nameStart, nameLength));
    const extra = bytesOf(directory, nameStart + nameLength, extraLength);
    // Zip64 extra field: the 64-bit values, in this order, of whichever 32-bit fields are marked.
    const zip64 = findExtra(extra, ZIP64_EXTRA);
    let zip64At = 0;
    const wide = (value: number): number => {
      if (value !== ZIP64_MARK) return value;
      if (!zip64 || zip64At + 8 > zip64.byteLength) throw new CorruptHeaderError(file, undefined, `zip record "${name}": zip64 size missing`);
      return u64(zip64, (zip64At += 8) - 8);
    };
    const size = wide(directory.getUint32(at + 24, true));
    const compressedSize = wide(directory.getUint32(at + 20, true));
    const localHeaderOffset = wide(directory.getUint32(at + 42, true));
    entries.push({ name, method: directory.getUint16(at + 10, true), size, compressedSize, localHeaderOffset });
    at = next;
  }
  return entries;
}

/** File offset of an entry's first byte; only stored (uncompressed) entries can be read in place. */
export async function entryDataStart(source: ByteSource, entry: ZipEntry): Promise<number> {
  const record = `zip record "${entry.name}"`;
  if (entry.method !== 0) {
    throw new UnsupportedFeatureError(source.name, undefined, `${record} is compressed (method ${entry.method}); PyTorch stores records uncompressed`);
  }
  if (entry.localHeaderOffset + LOCAL_HEADER_BYTES > source.size) {
    throw new TruncatedFileError(source.name, undefined, `${record}: local header past the end of the file`);
  }
  const header = view(await source.read(entry.localHeaderOffset, LOCAL_HEADER_BYTES));
  if (header.getUint32(0, true) !== LOCAL_HEADER) throw new CorruptHeaderError(source.name, undefined, `${record}: bad local header`);
  const start = entry.localHeaderOffset + LOCAL_HEADER_BYTES + header.getUint16(26, true) + header.getUint16(28, true);
  if (start + entry.size > source.size) {
    throw new TruncatedFileError(source.name, undefined, `${record}: bytes [${start}, +${entry.size}) run past the end of the file`);
  }
  return start;
}

export async function readZipEntry(source: ByteSource, entry: ZipEntry): Promise<Uint8Array> {
  return source.read(await entryDataStart(source, entry), entry.size);
}

function findEndRecord(tail: DataView): number {
  for (let at = tail.byteLength - END_RECORD_BYTES; at >= 0; at--) {
    if (tail.getUint32(at, true) === END_OF_DIRECTORY) return at;
  }
  return -1;
}

function findExtra(extra: Uint8Array, id: number): DataView | undefined {
  const fields = view(extra);
  for (let at = 0; at + 4 <= extra.byteLength; ) {
    const length = fields.getUint16(at + 2, true);
    if (fields.getUint16(at, true) === id) return view(extra.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return undefined;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bytesOf(data: DataView, start: number, length: number): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset + start, length);
}

function u64(data: DataView, at: number): number {
  return Number(data.getBigUint64(at, true));
}

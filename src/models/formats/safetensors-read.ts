// safetensors: u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
// then the data area, to which the offsets are relative. Every claim in the header is checked
// against the file before any tensor is read.

import type { ByteSource } from './byte-source.js';
import { dtypeBytes, isDType } from './dtype.js';
import { CorruptHeaderError, TensorLayoutError, TruncatedFileError, UnsupportedDtypeError } from './errors.js';
import { contiguousStrides, numelOf } from './tensor-view.js';
import { LocatedWeightFile, type TensorLocation } from './weight-file.js';

/** The reference implementation's limit; a larger header is a corrupt length, not a real header. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

export async function openSafetensors(source: ByteSource): Promise<LocatedWeightFile> {
  const file = source.name;
  if (source.size < 8) throw new TruncatedFileError(file, undefined, 'shorter than the 8-byte header length');
  const lengthBytes = await source.read(0, 8);
  const headerLength = Number(new DataView(lengthBytes.buffer).getBigUint64(0, true));
  if (headerLength > source.size - 8) {
    throw new TruncatedFileError(file, undefined, `header length ${headerLength} runs past the end of the file (${source.size} bytes)`);
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CorruptHeaderError(file, undefined, `header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  }
  const header = parseHeaderJson(file, await source.read(8, headerLength));
  const dataStart = 8 + headerLength;
  const dataSize = source.size - dataStart;

  const metadata = readMetadata(file, header[METADATA_KEY]);
  const locations = new Map<string, TensorLocation>();
  const extents: { key: string; begin: number; end: number }[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key === METADATA_KEY) continue;
    const { dtype, shape, begin, end } = readTensorHeader(file, key, value);
    const numel = numelOf(shape);
    if (end - begin !== numel * dtypeBytes(dtype)) {
      throw new TensorLayoutError(file, key, `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype}[${shape}] needs ${numel * dtypeBytes(dtype)}`);
    }
    if (end > dataSize) {
      throw new TensorLayoutError(file, key, `data_offsets end ${end} is past the end of the data (${dataSize} bytes)`);
    }
    extents.push({ key, begin, end });
    locations.set(key, { dtype, shape, numel, stride: contiguousStrides(shape), offset: 0, storageStart: dataStart + begin });
  }
  checkNoOverlap(file, extents);
  return new LocatedWeightFile('safetensors', source, locations, metadata);
}

function parseHeaderJson(file: string, bytes: Uint8Array): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CorruptHeaderError(file, undefined, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CorruptHeaderError(file, undefined, 'header JSON is not an object');
  }
  return header as Record<string, unknown>;
}

function readMetadata(file: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const valid =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string');
  if (!valid) throw new CorruptHeaderError(file, METADATA_KEY, 'must map strings to strings');
  return value as Record<string, string>;
}

function readTensorHeader(file: string, key: string, value: unknown) {
  const { dtype, shape, data_offsets: offsets } = (value ?? {}) as Record<string, unknown>;
  const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (typeof dtype !== 'string' || !Array.isArray(shape) || !shape.every(isCount)) {
    throw new CorruptHeaderError(file, key, 'entry needs a string "dtype" and a "shape" of non-negative integers');
  }
  if (!isDType(dtype)) throw new UnsupportedDtypeError(file, key, `dtype ${dtype}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new CorruptHeaderError(file, key, `"data_offsets" must be [begin, end] with begin <= end, got ${JSON.stringify(offsets)}`);
  }
  return { dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}

function checkNoOverlap(file: string, extents: { key: string; begin: number; end: number }[]): void {
  const byBegin = extents.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byBegin.length; i++) {
    const [before, after] = [byBegin[i - 1]!, byBegin[i]!];
    if (after.begin < before.end) {
      throw new TensorLayoutError(file, after.key, `bytes [${after.begin}, ${after.end}) overlap tensor "${before.key}" [${before.begin}, ${before.end})`);
    }
  }
}

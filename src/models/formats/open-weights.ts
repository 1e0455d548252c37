// Opens any supported weight file, recognising the format by its first bytes, not its name:
// users rename .pth to .bin and .safetensors to .pt.

import type { ByteSource } from './byte-source.js';
import { UnknownFormatError } from './errors.js';
import { openPytorchLegacy } from './pth-legacy.js';
import { openPytorchZip } from './pth-zip.js';
import { openSafetensors } from './safetensors-read.js';
import type { WeightFile } from './weight-file.js';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4"
const PICKLE_PROTO = 0x80;
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46]; // "\x89HDF"
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

export async function openWeights(source: ByteSource): Promise<WeightFile> {
  const head = await source.read(0, Math.min(64, source.size));
  const startsWith = (magic: number[]) => magic.every((byte, i) => head[i] === byte);
  if (startsWith(ZIP_MAGIC)) return openPytorchZip(source);
  // safetensors: an 8-byte length, then the JSON header's opening brace (after any whitespace, as
  // Python's safetensors accepts). Tested before pickle's first byte: a header of 128 + 256k bytes
  // starts its length with 0x80 too (torch.save's legacy files have a byte of their magic number
  // at 8, never "{" or whitespace).
  const json = head.subarray(8).findIndex((byte) => !JSON_WHITESPACE.has(byte));
  if (json >= 0 && head[8 + json] === 0x7b) return openSafetensors(source);
  if (head[0] === PICKLE_PROTO) return openPytorchLegacy(source);
  const hint = startsWith(HDF5_MAGIC) ? ' (HDF5, e.g. a Keras .h5: convert it to safetensors first)' : '';
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new UnknownFormatError(
    source.name,
    undefined,
    `not safetensors or a PyTorch .pth: starts with ${hex || 'nothing'}${hint}`,
  );
}

// PyTorch's legacy stream format (torch.save before 1.6, and _use_new_zipfile_serialization=False):
// five pickles back to back (magic number, protocol 1001, sys_info, the state dict, the sorted
// list of storage keys), then each storage in that list's order as an int64 little-endian
// element count followed by its raw bytes.

import type { ByteSource } from './byte-source.js';
import { dtypeBytes } from './dtype.js';
import { CorruptHeaderError, TruncatedFileError, UnknownFormatError, UnsupportedFeatureError } from './errors.js';
import { unpickle } from './pickle.js';
import { locateTensors, type StorageBytes } from './pth-locate.js';
import { plainDataHooks, unpickleStateDict, type PickledStateDict } from './torch-pickle.js';
import { LocatedWeightFile } from './weight-file.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** The pickles are usually a few kilobytes; the window grows when they are not. */
const FIRST_WINDOW_BYTES = 1 << 20;

export async function openPytorchLegacy(source: ByteSource): Promise<LocatedWeightFile> {
  const file = source.name;
  const { stateDict, storageKeys, end } = await readPicklesGrowingWindow(source);
  const storages = new Map<string, StorageBytes>();
  let at = end;
  for (const key of storageKeys) {
    const storage = stateDict.storages.get(key);
    if (!storage) throw new CorruptHeaderError(file, undefined, `storage key list names "${key}", which no tensor uses`);
    const byteLength = storage.numel * dtypeBytes(storage.dtype);
    if (at + 8 + byteLength > source.size) {
      throw new TruncatedFileError(file, undefined, `storage "${key}" (${byteLength} bytes at ${at + 8}) runs past the end of the file (${source.size} bytes)`);
    }
    const count = new DataView((await source.read(at, 8)).buffer).getBigInt64(0, true);
    if (count !== BigInt(storage.numel)) {
      throw new CorruptHeaderError(file, undefined, `storage "${key}" records ${count} elements, the pickle says ${storage.numel}`);
    }
    storages.set(key, { start: at + 8, byteLength });
    at += 8 + byteLength;
  }
  return new LocatedWeightFile('pytorch-legacy', source, locateTensors(file, stateDict.tensors, storages));
}

/** Parses the five pickles from a window at the start of the file, enlarging it until they fit. */
async function readPicklesGrowingWindow(source: ByteSource) {
  for (let window = FIRST_WINDOW_BYTES; ; window *= 4) {
    const length = Math.min(window, source.size);
    try {
      return readPickles(source.name, await source.read(0, length));
    } catch (error) {
      if (!(error instanceof TruncatedFileError) || length === source.size) throw error;
    }
  }
}

function readPickles(file: string, bytes: Uint8Array): { stateDict: PickledStateDict; storageKeys: string[]; end: number } {
  const plain = plainDataHooks(file);
  const magic = unpickle(bytes, 0, file, plain);
  if (magic.value !== LEGACY_MAGIC) throw new UnknownFormatError(file, undefined, 'a pickle, but not a PyTorch checkpoint (wrong magic number)');
  const protocol = unpickle(bytes, magic.end, file, plain);
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new UnsupportedFeatureError(file, undefined, `legacy protocol ${String(protocol.value)} (only ${LEGACY_PROTOCOL} is known)`);
  }
  const sysInfo = unpickle(bytes, protocol.end, file, plain);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new UnsupportedFeatureError(file, undefined, 'saved on a big-endian machine');
  }
  const stateDict = unpickleStateDict(bytes, sysInfo.end, file);
  const keys = unpickle(bytes, stateDict.end, file, plain);
  if (!Array.isArray(keys.value) || !keys.value.every((key) => typeof key === 'string')) {
    throw new CorruptHeaderError(file, undefined, 'the storage key list is not a list of strings');
  }
  return { stateDict, storageKeys: keys.value as string[], end: keys.end };
}

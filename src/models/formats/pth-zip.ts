// PyTorch's zip checkpoint (torch.save since 1.6): `<prefix>/data.pkl` is the state-dict pickle,
// `<prefix>/data/<key>` the raw little-endian bytes of storage <key>. The prefix is the archive's
// name at save time, so it is found, not assumed.

import type { ByteSource } from './byte-source.js';
import { TensorLayoutError, UnknownFormatError, UnsupportedFeatureError } from './errors.js';
import { locateTensors, type StorageBytes } from './pth-locate.js';
import { unpickleStateDict } from './torch-pickle.js';
import { LocatedWeightFile } from './weight-file.js';
import { entryDataStart, readZipDirectory, readZipEntry, type ZipEntry } from './zip-read.js';

export async function openPytorchZip(source: ByteSource): Promise<LocatedWeightFile> {
  const file = source.name;
  const entries = new Map<string, ZipEntry>((await readZipDirectory(source)).map((e) => [e.name, e]));
  const pickleName = [...entries.keys()].find((name) => /^[^/]*\/?data\.pkl$/.test(name));
  if (pickleName === undefined) throw new UnknownFormatError(file, undefined, 'a zip file without data.pkl: not a PyTorch checkpoint');
  const prefix = pickleName.slice(0, -'data.pkl'.length);

  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder) {
    const order = new TextDecoder().decode(await readZipEntry(source, byteOrder)).trim();
    if (order !== 'little') throw new UnsupportedFeatureError(file, undefined, `storages are ${order}-endian`);
  }

  const { tensors, storages } = unpickleStateDict(await readZipEntry(source, entries.get(pickleName)!), 0, file);
  const storageBytes = new Map<string, StorageBytes>();
  for (const key of storages.keys()) {
    const entry = entries.get(`${prefix}data/${key}`);
    if (!entry) throw new TensorLayoutError(file, undefined, `storage record ${prefix}data/${key} is missing`);
    storageBytes.set(key, { start: await entryDataStart(source, entry), byteLength: entry.size });
  }
  return new LocatedWeightFile('pytorch-zip', source, locateTensors(file, tensors, storageBytes));
}

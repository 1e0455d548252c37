// Writes a state dict in PyTorch's zip format, so `torch.load` (and this project's reader) can
// open it: an OrderedDict of _rebuild_tensor_v2 calls in data.pkl, one storage record per tensor.

import { PickleWriter } from './pickle-write.js';
import { bytesToWrite, concatBytes, type TensorToWrite } from './tensor-to-write.js';
import { contiguousStrides } from './tensor-view.js';
import { storageTypeName } from './torch-pickle.js';
import { encodeZip, type ZipRecord } from './zip-write.js';

const OUTPUT = 'pth output';
/** The format version torch.save writes for plain tensors. */
const FILE_FORMAT_VERSION = '3\n';

/** The file as chunks; tensor data is referenced, not copied. */
export function encodePytorchZip(tensors: ReadonlyMap<string, TensorToWrite>, archiveName = 'archive'): Uint8Array[] {
  const pickle = new PickleWriter().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  const storages: ZipRecord[] = [];
  for (const [name, tensor] of tensors) {
    const key = String(storages.length);
    storages.push({ name: `${archiveName}/data/${key}`, data: bytesToWrite(OUTPUT, name, tensor) });
    const numel = tensor.data.length;
    pickle.string(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    pickle.mark().string('storage').global('torch', storageTypeName(tensor.dtype)).string(key).string('cpu').int(numel);
    pickle.tuple().persistentId();
    pickle.int(0).intTuple(tensor.shape).intTuple(contiguousStrides(tensor.shape)).bool(false);
    pickle.global('collections', 'OrderedDict').emptyTuple().reduce(); // backward_hooks
    pickle.tuple().reduce();
  }
  const records: ZipRecord[] = [
    { name: `${archiveName}/data.pkl`, data: pickle.setItems().stop() },
    { name: `${archiveName}/byteorder`, data: new TextEncoder().encode('little') },
    ...storages,
    { name: `${archiveName}/version`, data: new TextEncoder().encode(FILE_FORMAT_VERSION) },
  ];
  return encodeZip(records);
}

export function writePytorchZip(tensors: ReadonlyMap<string, TensorToWrite>, archiveName = 'archive'): Uint8Array {
  return concatBytes(encodePytorchZip(tensors, archiveName));
}

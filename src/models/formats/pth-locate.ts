// Places the tensors of a .pth pickle on the file's bytes, once each container has found where
// its storages start, and checks that every view stays inside its storage.

import { dtypeBytes } from './dtype.js';
import { TensorLayoutError } from './errors.js';
import { numelOf, viewSpan } from './tensor-view.js';
import type { PickledTensor } from './torch-pickle.js';
import type { TensorLocation } from './weight-file.js';

export interface StorageBytes {
  readonly start: number;
  readonly byteLength: number;
}

export function locateTensors(
  file: string,
  tensors: ReadonlyMap<string, PickledTensor>,
  storages: ReadonlyMap<string, StorageBytes>,
): Map<string, TensorLocation> {
  const locations = new Map<string, TensorLocation>();
  for (const [name, tensor] of tensors) {
    const { key, dtype, viewOffset } = tensor.storage;
    const bytes = storages.get(key);
    if (!bytes) throw new TensorLayoutError(file, name, `storage "${key}" is missing from the file`);
    const location: TensorLocation = {
      dtype,
      shape: tensor.shape,
      numel: numelOf(tensor.shape),
      stride: tensor.stride,
      offset: viewOffset + tensor.offset,
      storageStart: bytes.start,
    };
    const span = viewSpan(location);
    const needed = (span.first + span.count) * dtypeBytes(dtype);
    if (location.numel > 0 && needed > bytes.byteLength) {
      throw new TensorLayoutError(
        file,
        name,
        `view (offset ${location.offset}, size [${tensor.shape}], stride [${tensor.stride}]) needs ${needed} bytes of storage "${key}", which holds ${bytes.byteLength}`,
      );
    }
    locations.set(name, location);
  }
  return locations;
}

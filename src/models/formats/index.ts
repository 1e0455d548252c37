// Pretrained-weight file formats, browser-safe. Node adds node-file-source.ts (read from disk)
// and node-file-sink.ts (write to disk).

export { blobSource, bytesSource, type ByteSource } from './byte-source.js';
export { describeWeights, type WeightDescription, type WeightRow, type WeightTotals } from './describe.js';
export { dtypeBytes, toFloat32, type DType, type RawTensorData } from './dtype.js';
export * from './errors.js';
export { openWeights } from './open-weights.js';
export { encodePytorchZip, writePytorchZip } from './pth-write.js';
export { remapWeights, type Rename, type WeightRemap } from './remap.js';
export { encodeSafetensors, streamSafetensors, writeSafetensors, type StreamOptions } from './safetensors-write.js';
export type { TensorToFetch, TensorToWrite } from './tensor-to-write.js';
export { mapTimmVggToTorchvision, withTorchvisionVggNames } from './timm-vgg.js';
export type { WeightEntry, WeightFile, WeightFormat } from './weight-file.js';

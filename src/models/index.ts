// Models (torchvision architectures and names), freezing, and weight loading/saving. Browser-safe;
// Node's file helpers are in node-weights.ts (exported from src/node.ts).
export { VGG, vgg16, vgg16_bn, smallVgg, vggFeatures, VGG16_CONFIG, type VggConfig, type VggOptions, type SmallVggOptions, type ModelOptions } from './vgg.js';
export { ResNet, BasicBlock, resnet18 } from './resnet.js';
export { MODELS, createModel, isModelName, type ModelName } from './registry.js';
export { headPathOf, type HasHead } from './head.js';
export * from './freeze.js';
export { loadWeights, type LoadWeightsOptions, type WeightsLoadReport } from './load-weights.js';
export { stateDictToWrite, stateDictToFetch, tensorToFetch, encodeModelSafetensors, encodeModelPth } from './save-weights.js';
export { inspectWeights, formatWeightInspection, type WeightInspection, type InspectedRow, type MappingStatus } from './inspect.js';

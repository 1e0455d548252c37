// GPU data augmentation (browser-safe; the PNG grid writer is Node-only: ./grid-node.js).
export * from './options.js';
export * from './params.js';
export { Augmenter, type AugmentResult, type AugmentKey } from './augmenter.js';
export { augmentKernel, graySumsKernel } from './kernel.js';

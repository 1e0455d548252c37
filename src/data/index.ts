// The data pipeline's browser-safe part: nothing here imports Node modules (see ./node.ts for those).
export * from './bad-file.js';
export * from './concurrency.js';
export * from './dataset.js';
export * from './decode-browser.js';
export * from './decode-contract.js';
export * from './image-header.js';
export * from './loader.js';
export * from './pack-batch.js';
export * from './permutation.js';
export * from './random.js';
export * from './sniff.js';

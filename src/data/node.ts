// The data pipeline's Node-only part: file listing, sharp decoding, splits, the dataset scan.
export * from './decode-node.js';
export * from './image-folder.js';
export * from './layout.js';
export * from './scan.js';
export * from './split-manifest.js';
export * from './split.js';

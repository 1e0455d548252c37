export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './shape.js';
export * from './softmax.js';
export * from './grad.js';

// Strided convolutions whose rows span many source columns, forward and both gradients against
// float64: ResNet's 7x7 stride-2 first layer and a 3x3 stride-2 layer, each 16 output columns
// wide. The blocked kernel of CPU adapters loads every source column a lane's pixels read in a
// row; with 16 pixels these layers read 37 and 33, and SwiftShader's shader compiler (the
// browser page's adapter) grew past 16 GiB without finishing: the kernel now takes fewer pixels
// per lane there (conv2d-implicit-gemm.ts, MAX_COLUMNS).
import { conv2d } from '../../src/index.js';
import { conv2dRef } from '../helpers/reference.js';
import { check, type CheckSuite } from './check.js';
import { checkOp } from './op-check.js';

const strided = (kernel: number, channels: number) =>
  check(`conv2d ${kernel}x${kernel} stride 2, 16 output columns: forward and gradients`, async ({ expect }) => {
    const padding = (kernel - 1) / 2;
    const x = [1, channels, 32, 32];
    const w = [2, channels, kernel, kernel];
    await checkOp(expect, {
      gpu: ([input, weight]) => conv2d(input!, weight!, undefined, { stride: 2, padding }),
      reference: ([input, weight]) => conv2dRef(input!, x, weight!, w, 2, padding).data,
      shapes: [x, w],
    });
  });

export const convolutions: CheckSuite = {
  name: 'convolutions',
  checks: [strided(7, 3), strided(3, 2)],
};

// Builds the engine's browser bundle (dist-web/webgpu-transfer.js) once for the browser suite:
// src/testing serves it, and build.test.ts inspects it.
import { build } from 'vite';
import { configFile } from './harness.js';

export default async function setup(): Promise<void> {
  await build({ configFile, mode: 'lib', logLevel: 'warn' });
}

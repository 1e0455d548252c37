// Weight files made in the runtime itself and read back through a Blob (what a browser's File
// input hands over): safetensors and PyTorch zip, values bit for bit, and a model loaded from
// the file computes what the original computes.
import { noGrad, tensor, tidy, type Tensor } from '../../src/index.js';
import { blobSource, describeWeights, openWeights } from '../../src/models/formats/index.js';
import { loadWeights } from '../../src/models/load-weights.js';
import { encodeModelPth, encodeModelSafetensors, stateDictToWrite } from '../../src/models/save-weights.js';
import { TinyMlp } from './tiny-mlp.js';
import { check, type CheckExpect, type CheckSuite } from './check.js';

async function roundTrip(expect: CheckExpect, format: 'safetensors' | 'pytorch-zip'): Promise<void> {
  const original = new TinyMlp(undefined, 3);
  const loaded = new TinyMlp(undefined, 4);
  const input = tensor([0.1, -0.4, 0.7, 0.2, -0.9, 0.5], [3, 2]);
  try {
    const chunks = format === 'safetensors' ? await encodeModelSafetensors(original) : await encodeModelPth(original);
    // The writers' chunks are ArrayBuffer-backed: Blob's typing only needs to be told.
    const blob = new Blob(chunks as Uint8Array<ArrayBuffer>[]);
    const file = await openWeights(blobSource(blob, `tiny-mlp.${format === 'safetensors' ? 'safetensors' : 'pth'}`));
    try {
      expect.equal(file.format, format, 'format recognised from the bytes');
      const state = await stateDictToWrite(original);
      const listed = describeWeights(file).rows.map((r) => `${r.name} ${r.dtype}[${r.shape.join(',')}]`);
      const written = [...state].map(([name, t]) => `${name} F32[${t.shape.join(',')}]`);
      expect.equal(listed.sort(), written.sort(), 'names, dtypes and shapes');
      for (const [name, t] of state) expect.equal(Array.from(await file.read(name)), Array.from(t.data as Float32Array), `${name} read back`);
      const report = await loadWeights(loaded, file);
      expect.equal(report.loadedKeys.length, state.size, 'tensors loaded');
    } finally {
      await file.close();
    }
    const run = (model: TinyMlp): Promise<Float32Array> => {
      const out: Tensor = tidy(() => noGrad(() => model.forward(input)));
      return out.read() as Promise<Float32Array>;
    };
    expect.equal(Array.from(await run(loaded)), Array.from(await run(original)), 'outputs of the loaded model');
  } finally {
    original.dispose();
    loaded.dispose();
    input.dispose();
  }
}

export const weightFiles: CheckSuite = {
  name: 'weight files',
  checks: [
    check('safetensors written here, read back through a Blob, loaded into a model', ({ expect }) => roundTrip(expect, 'safetensors')),
    check('PyTorch zip (.pth) written here, read back through a Blob, loaded into a model', ({ expect }) => roundTrip(expect, 'pytorch-zip')),
  ],
};

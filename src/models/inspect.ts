/**
 * What a weight file holds and how it maps onto a model: the function behind
 * `webgpu-transfer inspect --weights FILE [--model vgg16]`. Nothing is read but the header.
 */
import type { Module } from '../nn/module.js';
import { skipInit } from '../nn/init.js';
import { Counter, sameShape } from '../nn/state-dict.js';
import { formatBytes } from '../runtime/errors.js';
import { describeWeights, type WeightDescription, type WeightRow } from './formats/describe.js';
import { mapTimmVggToTorchvision } from './formats/timm-vgg.js';
import type { WeightFile } from './formats/weight-file.js';
import { createModel } from './registry.js';
import { wrapperPrefix } from './load-weights.js';

/**
 * How a file tensor meets the model: 'loads' (name and shape match), 'shape-mismatch',
 * 'unexpected' (the model has no such key).
 */
export type MappingStatus = 'loads' | 'shape-mismatch' | 'unexpected' | 'outside-the-state-dict';

export interface InspectedRow extends WeightRow {
  /** The key in the model (differs from `name` for timm's VGG names). */
  modelKey: string;
  status?: MappingStatus;
  modelShape?: readonly number[];
}

export interface WeightInspection {
  description: WeightDescription;
  rows: InspectedRow[];
  /** Set when a model was given. */
  model?: {
    name: string;
    /** Model keys the file does not provide. */
    missing: { key: string; shape: readonly number[] }[];
    loads: number;
    mismatched: number;
    unexpected: number;
  };
}

/**
 * Describes `file` and, given a model (or a model name: the model is then built without
 * initialising it, on the default GPU context, and released), maps every tensor onto it.
 */
export function inspectWeights(file: WeightFile, model?: Module | string): WeightInspection {
  const description = describeWeights(file);
  const renames = mapTimmVggToTorchvision(file.entries, file.name);
  const rows: InspectedRow[] = description.rows.map((row) => ({ ...row, modelKey: renames?.get(row.name)?.name ?? row.name }));
  if (model === undefined) return { description, rows };

  const built = typeof model === 'string' ? skipInit(() => createModel(model)) : model;
  try {
    const slots = built.stateSlots();
    // A checkpoint's state dict under a wrapper (state_dict., model., module.), as loadWeights finds it.
    const wrapper = wrapperPrefix(rows.map((row) => row.name), slots);
    let loads = 0;
    let mismatched = 0;
    let unexpected = 0;
    for (const row of rows) {
      if (wrapper) {
        if (!row.name.startsWith(wrapper)) {
          row.status = 'outside-the-state-dict';
          continue;
        }
        row.modelKey = row.name.slice(wrapper.length);
      }
      const slot = slots.get(row.modelKey);
      const shape = renames?.get(row.name)?.shape ?? row.shape;
      if (!slot) {
        row.status = 'unexpected';
        unexpected++;
        continue;
      }
      row.modelShape = slot instanceof Counter ? [] : slot.shape;
      const fits = slot instanceof Counter ? shape.length === 0 : sameShape(shape, slot.shape);
      row.status = fits ? 'loads' : 'shape-mismatch';
      if (fits) loads++;
      else mismatched++;
    }
    const provided = new Set(rows.filter((r) => r.status !== 'outside-the-state-dict').map((r) => r.modelKey));
    const missing = [...slots]
      .filter(([key]) => !provided.has(key))
      .map(([key, slot]) => ({ key, shape: slot instanceof Counter ? [] : slot.shape }));
    return { description, rows, model: { name: typeof model === 'string' ? model : built.constructor.name, missing, loads, mismatched, unexpected } };
  } finally {
    if (typeof model === 'string') built.dispose();
  }
}

/** The inspection as a table and totals, for the terminal. */
export function formatWeightInspection(inspection: WeightInspection): string {
  const { description: d, rows, model } = inspection;
  const shape = (s: readonly number[]) => `[${s.join(', ')}]`;
  const table = rows.map((r) => [
    r.modelKey === r.name ? r.name : `${r.name} -> ${r.modelKey}`,
    shape(r.shape),
    r.dtype,
    formatBytes(r.bytes),
    r.status === undefined ? '' : r.status === 'shape-mismatch' ? `shape-mismatch (model ${shape(r.modelShape!)})` : r.status,
  ]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...table.map((cells) => cells[c]!.length), 0));
  const lines = [`${d.file} (${d.format})`];
  for (const cells of table) lines.push(`  ${cells.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd()}`);
  const byDtype = [...d.totalsByDtype].map(([dtype, t]) => `${dtype}: ${t.tensors}`).join(', ');
  lines.push(`${d.totals.tensors} tensors (${byDtype}), ${d.totals.numel.toLocaleString('en-US')} values, ${formatBytes(d.totals.bytes)}`);
  if (model) {
    lines.push(`onto ${model.name}: ${model.loads} load, ${model.mismatched} shape mismatches, ${model.unexpected} unexpected, ${model.missing.length} missing`);
    for (const m of model.missing) lines.push(`  missing: ${m.key} ${shape(m.shape)}`);
  }
  return lines.join('\n');
}

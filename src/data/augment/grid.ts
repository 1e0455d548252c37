/**
 * Turning an augmented batch back into pictures a person can check: un-normalised uint8 tiles and
 * a few words per tile saying what was done. Browser-safe; grid-node.ts writes the PNG.
 */
import type { Rgb } from './options.js';
import type { SampleParams } from './params.js';

/** Normalised float32 NCHW back to uint8 HWC RGB, one array per image: round((x * std + mean) * 255). */
export function toRgbImages(data: Float32Array, shape: readonly number[], mean: Rgb, std: Rgb): Uint8Array[] {
  const [n, channels, height, width] = shape as [number, number, number, number];
  if (shape.length !== 4 || channels !== 3) throw new Error(`expected a [N, 3, H, W] batch, got [${shape.join(', ')}]`);
  const plane = height * width;
  return Array.from({ length: n }, (_, i) => {
    const rgb = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const channel = data.subarray((i * 3 + c) * plane, (i * 3 + c + 1) * plane);
      for (let p = 0; p < plane; p++) {
        rgb[p * 3 + c] = Math.min(255, Math.max(0, Math.round((channel[p]! * std[c]! + mean[c]!) * 255)));
      }
    }
    return rgb;
  });
}

const COLOR_ABBREVIATIONS = { brightness: 'b', contrast: 'c', saturation: 's', hue: 'h' } as const;

/** A few short lines describing one sample's parameters, e.g. for a grid label. */
export function describeParams(params: SampleParams): string[] {
  const g = params.geometry;
  const { top, left, height, width } = g.crop;
  const lines =
    g.kind === 'resized-crop'
      ? [`crop ${width}x${height} at (${left},${top}) of ${params.source.width}x${params.source.height}`]
      : [`resize ${g.resized.width}x${g.resized.height}, centre crop at (${left},${top})`];
  const geometry = [params.horizontalFlip ? 'hflip' : '', params.verticalFlip ? 'vflip' : '', params.angle !== 0 ? `rot ${params.angle.toFixed(1)}°` : '']
    .filter(Boolean)
    .join(' ');
  if (geometry) lines.push(geometry);
  if (params.color.length > 0) lines.push(params.color.map((c) => `${COLOR_ABBREVIATIONS[c.op]}${c.factor.toFixed(2)}`).join(' '));
  return lines;
}

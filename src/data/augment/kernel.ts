/**
 * The augmentation kernels. One pass over the output pixels does everything torchvision's
 * training transform does, per pixel of the float32 NCHW batch:
 *
 *   output pixel --rotation^-1--> point in the crop's resized grid (bilinear: 4 grid pixels,
 *   fill outside) --flips^-1--> grid pixel --resized crop^-1--> point in the uint8 source
 *   (bilinear: 4 source pixels) --> /255 --> ColorJitter's ops in the sample's order
 *   --> Normalize --> out.
 *
 * The rotation resamples the resized crop, as torchvision's two steps do (resized_crop, then
 * rotate with grid_sample), rather than folding both into one source sample: rotated samples
 * read 16 source pixels and match torchvision instead of being a little sharper than it.
 *
 * Contrast blends with the mean grayscale of the whole image as it is when contrast runs (after
 * the geometry and the colour ops before it), so a small pre-pass computes that mean exactly:
 * GRAY_PARTS workgroups per image each sum a strided share of its pixels.
 */
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { packUniforms, type KernelSource, type UniformLayout } from '../../runtime/pipelines.js';
import { COLOR_OPS, type SampleParams } from './params.js';

/** Partial grayscale sums per image written by the pre-pass (fixed: the sum order is reproducible). */
export const GRAY_PARTS = 16;
const STATS_WORKGROUP = 256;
/** The main kernel's workgroup: a 16x16 tile of one image's output. */
export const TILE = 16;

const FLIP_X = 1;
const FLIP_Y = 2;
const ROTATE = 4;

/** Shared by both kernels; they declare `pixels` (the packed uint8 batch) themselves. */
const common = /* wgsl */ `
// One record per image (encodeSamples writes it member by member, by name).
struct Sample {
  byte_offset: u32,     // the image's first byte in 'pixels' (HWC RGB, rows of width * 3 bytes)
  width: u32,           // source width in pixels
  flags: u32,           // FLIP_X | FLIP_Y | ROTATE
  color_ops: u32,       // ColorJitter op ids, 4 bits each, the first to apply in the lowest bits
  color_count: u32,     // how many ops 'color_ops' holds
  contrast_step: u32,   // where contrast comes among them; == color_count: no contrast
  rotation: vec2<f32>,  // cos, sin of the angle (counter-clockwise)
  src_start: vec2<u32>, // first source column and row that may be sampled (the crop's corner)
  src_size: vec2<u32>,  // columns and rows that may be sampled (the crop's size)
  scale: vec2<f32>,     // source pixels per grid pixel, x and y
  shift: vec2<f32>,     // grid offset of the output (CenterCrop's corner in the resized image)
  factors: vec4<f32>,   // factor of each colour op, by op id
}

const FLIP_X = ${FLIP_X}u;
const FLIP_Y = ${FLIP_Y}u;
const ROTATE = ${ROTATE}u;

// Set per batch (see kernelVariant): false when no image of the batch is rotated / colour
// jittered, so that the code for it compiles away. Software adapters run that code even when
// no invocation takes the branch; validation and the notebook's transform need neither.
override ROTATION: bool = true;
override COLOR: bool = true;

// The RGB bytes starting at byte 'at' of the packed batch (little-endian bytes in u32 words).
fn texel(at: u32) -> vec3<f32> {
  let word = at >> 2u;
  let shift = (at & 3u) * 8u;
  var rgb = pixels[word] >> shift;
  // A pixel starting in the last two bytes of a word spills into the next one.
  if (shift > 8u) { rgb |= pixels[word + 1u] << (32u - shift); }
  return vec3<f32>(f32(rgb & 0xffu), f32((rgb >> 8u) & 0xffu), f32((rgb >> 16u) & 0xffu));
}

struct Taps { first: u32, second: u32, weight: f32 }

// PyTorch's upsample_bilinear2d (align_corners=False) along one axis, for output index 'd':
// source = max(scale * (d + 0.5) - 0.5, 0), its two neighbours clamped to the sampled range.
fn axis_taps(d: u32, scale: f32, shift: f32, start: u32, size: u32) -> Taps {
  let source = max(scale * (f32(d) + shift + 0.5) - 0.5, 0.0);
  let i0 = min(u32(source), size - 1u);
  let i1 = min(i0 + 1u, size - 1u);
  return Taps(start + i0, start + i1, clamp(source - f32(i0), 0.0, 1.0));
}

// Pixel (x, y) of the flipped, resized crop, in [0, 1]: what torchvision's rotate samples.
fn grid_pixel(s: Sample, x: u32, y: u32, size: vec2<u32>) -> vec3<f32> {
  let gx = select(x, size.x - 1u - x, (s.flags & FLIP_X) != 0u);
  let gy = select(y, size.y - 1u - y, (s.flags & FLIP_Y) != 0u);
  let tx = axis_taps(gx, s.scale.x, s.shift.x, s.src_start.x, s.src_size.x);
  let ty = axis_taps(gy, s.scale.y, s.shift.y, s.src_start.y, s.src_size.y);
  let row0 = s.byte_offset + ty.first * s.width * 3u;
  let row1 = s.byte_offset + ty.second * s.width * 3u;
  let upper = mix(texel(row0 + tx.first * 3u), texel(row0 + tx.second * 3u), tx.weight);
  let lower = mix(texel(row1 + tx.first * 3u), texel(row1 + tx.second * 3u), tx.weight);
  return mix(upper, lower, ty.weight) / 255.0;
}

// Output pixel (x, y) before the colour ops. torchvision's rotate maps output pixel centres
// (relative to the image centre) through the rotation and samples the grid with grid_sample
// (bilinear, zero padding). For the fill it samples a mask of ones the same way and returns
// image * mask + (1 - mask) * fill: near the border the image part is weighted twice, as there.
fn geometry_pixel(s: Sample, x: u32, y: u32, size: vec2<u32>, fill: vec3<f32>) -> vec3<f32> {
  if (!ROTATION || (s.flags & ROTATE) == 0u) { return grid_pixel(s, x, y, size); }
  let half = vec2<f32>(size) * 0.5;
  let d = vec2<f32>(f32(x), f32(y)) + 0.5 - half;
  let c = s.rotation.x;
  let sn = s.rotation.y;
  let at = vec2<f32>(c * d.x - sn * d.y, sn * d.x + c * d.y) + half - 0.5;
  let corner = floor(at);
  let w = at - corner;
  var sum = vec3<f32>(0.0);
  var mask = 0.0;
  for (var k = 0u; k < 4u; k++) {
    let dx = k & 1u;
    let dy = k >> 1u;
    let tap = vec2<i32>(corner) + vec2<i32>(i32(dx), i32(dy));
    if (all(tap >= vec2<i32>(0)) && all(tap < vec2<i32>(size))) {
      let weight = select(1.0 - w.x, w.x, dx == 1u) * select(1.0 - w.y, w.y, dy == 1u);
      sum += weight * grid_pixel(s, u32(tap.x), u32(tap.y), size);
      mask += weight;
    }
  }
  return sum * mask + (1.0 - mask) * fill;
}

// torchvision's rgb_to_grayscale weights.
fn gray(c: vec3<f32>) -> f32 { return dot(c, vec3<f32>(0.2989, 0.587, 0.114)); }

// torchvision's _blend for float images.
fn blend(a: vec3<f32>, b: vec3<f32>, ratio: f32) -> vec3<f32> {
  return clamp(ratio * a + (1.0 - ratio) * b, vec3<f32>(0.0), vec3<f32>(1.0));
}

// torchvision's adjust_hue: _rgb2hsv, shift h modulo 1, _hsv2rgb (same branches, same clamps).
fn adjust_hue(c: vec3<f32>, factor: f32) -> vec3<f32> {
  let maxc = max(c.r, max(c.g, c.b));
  let minc = min(c.r, min(c.g, c.b));
  let cr = maxc - minc;
  let flat = maxc == minc;
  let s = cr / select(maxc, 1.0, flat);
  let rgbc = (vec3<f32>(maxc) - c) / select(cr, 1.0, flat);
  var h: f32;
  if (maxc == c.r) { h = rgbc.b - rgbc.g; }
  else if (maxc == c.g) { h = 2.0 + rgbc.r - rgbc.b; }
  else { h = 4.0 + rgbc.g - rgbc.r; }
  h = fract(h / 6.0 + 1.0) + factor;
  h = h - floor(h);
  let v = maxc;
  let i = floor(h * 6.0);
  let f = h * 6.0 - i;
  let p = clamp(v * (1.0 - s), 0.0, 1.0);
  let q = clamp(v * (1.0 - s * f), 0.0, 1.0);
  let t = clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0);
  switch (u32(i) % 6u) {
    case 0u: { return vec3<f32>(v, t, p); }
    case 1u: { return vec3<f32>(q, v, p); }
    case 2u: { return vec3<f32>(p, v, t); }
    case 3u: { return vec3<f32>(p, q, v); }
    case 4u: { return vec3<f32>(t, p, v); }
    default: { return vec3<f32>(v, p, q); }
  }
}

// The first 'steps' colour ops of the sample, in its order (ColorJitter.forward). Brightness,
// contrast and saturation are all torchvision's _blend, with black, the image's mean gray and
// the pixel's gray.
fn color(c: vec3<f32>, s: Sample, steps: u32, contrast_mean: f32) -> vec3<f32> {
  var out = c;
  for (var k = 0u; k < steps; k++) {
    let op = (s.color_ops >> (4u * k)) & 0xfu;
    let factor = s.factors[op];
    if (op == ${COLOR_OPS.indexOf('hue')}u) {
      out = adjust_hue(out, factor);
    } else {
      let other = select(select(0.0, contrast_mean, op == ${COLOR_OPS.indexOf('contrast')}u), gray(out), op == ${COLOR_OPS.indexOf('saturation')}u);
      out = blend(out, vec3<f32>(other), factor);
    }
  }
  return out;
}
`;

/** The pre-pass: the sum of each image's grayscale as contrast sees it, in GRAY_PARTS parts. */
export const graySumsKernel = {
  name: 'augment.gray_sums',
  code: /* wgsl */ `
struct Params { out_width: u32, out_height: u32, first_image: u32, fill: vec3<f32> }
@group(0) @binding(0) var<storage, read> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> samples: array<Sample>;
@group(0) @binding(2) var<storage, read_write> gray_sums: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${common}
var<workgroup> partial: array<f32, ${STATS_WORKGROUP}>;

// Workgroup (part, image): pixels part * ${STATS_WORKGROUP} + local, then every ${GRAY_PARTS * STATS_WORKGROUP}th.
@compute @workgroup_size(${STATS_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let image = p.first_image + wg.y;
  let s = samples[image];
  let size = vec2<u32>(p.out_width, p.out_height);
  var sum = 0.0;
  if (s.contrast_step < s.color_count) {
    for (var i = wg.x * ${STATS_WORKGROUP}u + local; i < size.x * size.y; i += ${GRAY_PARTS * STATS_WORKGROUP}u) {
      let c = geometry_pixel(s, i % size.x, i / size.x, size, p.fill);
      sum += gray(color(c, s, s.contrast_step, 0.0));
    }
  }
  partial[local] = sum;
  workgroupBarrier();
  for (var stride = ${STATS_WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (local < stride) { partial[local] += partial[local + stride]; }
    workgroupBarrier();
  }
  if (local == 0u) { gray_sums[image * ${GRAY_PARTS}u + wg.x] = partial[0]; }
}`,
};

/** The fused kernel: one invocation per output pixel, all three channels. */
export const augmentKernel = {
  name: 'augment.fused',
  code: /* wgsl */ `
struct Params {
  out_width: u32,
  out_height: u32,
  first_image: u32,     // samples[first_image + z] is the image this dispatch's z writes
  out_skip: u32,        // elements of 'images' before this dispatch's first image
  fill: vec3<f32>,      // rotation fill, in [0, 1]
  channel_mean: vec3<f32>,
  channel_std: vec3<f32>,
}
@group(0) @binding(0) var<storage, read> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> samples: array<Sample>;
@group(0) @binding(2) var<storage, read> gray_sums: array<f32>;
@group(0) @binding(3) var<storage, read_write> images: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
${common}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let size = vec2<u32>(p.out_width, p.out_height);
  if (id.x >= size.x || id.y >= size.y) { return; }
  let image = p.first_image + id.z;
  let s = samples[image];
  var c = geometry_pixel(s, id.x, id.y, size, p.fill);
  if (COLOR) {
    var mean = 0.0;
    if (s.contrast_step < s.color_count) {
      for (var k = 0u; k < ${GRAY_PARTS}u; k++) { mean += gray_sums[image * ${GRAY_PARTS}u + k]; }
      mean /= f32(size.x * size.y);
    }
    c = color(c, s, s.color_count, mean);
  }
  let normalized = (c - p.channel_mean) / p.channel_std;
  let plane = size.x * size.y;
  let at = p.out_skip + id.z * 3u * plane + id.y * size.x + id.x;
  images[at] = normalized.r;
  images[at + plane] = normalized.g;
  images[at + 2u * plane] = normalized.b;
}`,
};

/** The Sample struct's layout, read from the WGSL. */
const sampleLayout: UniformLayout = reflectStruct(augmentKernel.code, 'Sample');

/** Bytes per Sample record (its array stride). */
export const SAMPLE_BYTES = sampleLayout.byteSize;

/** The kernels specialised to what a batch needs (at most four pipelines per kernel, compiled once each). */
export function kernelVariant(source: typeof augmentKernel, params: readonly SampleParams[]): KernelSource {
  const rotation = params.some((p) => p.angle !== 0);
  const color = params.some((p) => p.color.length > 0);
  return { ...source, constants: { ROTATION: Number(rotation), COLOR: Number(color) } };
}

/**
 * The per-image table both kernels read: where each image's bytes are (relative to `byteBase`,
 * the start of the range the kernel binds) and its parameters in the kernel's terms.
 */
export function encodeSamples(
  params: readonly SampleParams[],
  byteOffsets: ArrayLike<number>,
  byteBases: ArrayLike<number>,
  out: { height: number; width: number },
): Uint8Array {
  const table = new Uint8Array(params.length * SAMPLE_BYTES);
  params.forEach((sample, i) => {
    const g = sample.geometry;
    // Per axis: grid pixel d samples source start + max(scale * (d + shift + 0.5) - 0.5, 0).
    const axes =
      g.kind === 'resized-crop'
        ? { start: [g.crop.left, g.crop.top], size: [g.crop.width, g.crop.height], from: [g.crop.width, g.crop.height], shift: [0, 0] }
        : { start: [0, 0], size: [sample.source.width, sample.source.height], from: [sample.source.width, sample.source.height], shift: [g.crop.left, g.crop.top] };
    const gridSize = g.kind === 'resized-crop' ? [out.width, out.height] : [g.resized.width, g.resized.height];
    const radians = (sample.angle * Math.PI) / 180;
    const contrastStep = sample.color.findIndex((c) => c.op === 'contrast');
    const factors = [1, 1, 1, 0];
    for (const c of sample.color) factors[COLOR_OPS.indexOf(c.op)] = c.factor;
    const record = packUniforms(
      sampleLayout,
      {
        byte_offset: byteOffsets[i]! - byteBases[i]!,
        width: sample.source.width,
        flags: (sample.horizontalFlip ? FLIP_X : 0) | (sample.verticalFlip ? FLIP_Y : 0) | (sample.angle !== 0 ? ROTATE : 0),
        color_ops: sample.color.reduce((bits, c, k) => bits | (COLOR_OPS.indexOf(c.op) << (4 * k)), 0),
        color_count: sample.color.length,
        contrast_step: contrastStep < 0 ? sample.color.length : contrastStep,
        rotation: [Math.cos(radians), Math.sin(radians)],
        src_start: axes.start,
        src_size: axes.size,
        // PyTorch's scale: float(input_size) / output_size, in float32 (packUniforms rounds).
        scale: [axes.from[0]! / gridSize[0]!, axes.from[1]! / gridSize[1]!],
        shift: axes.shift,
        factors,
      },
      augmentKernel.name,
    );
    table.set(new Uint8Array(record), i * SAMPLE_BYTES);
  });
  return table;
}

function reflectStruct(code: string, name: string): UniformLayout {
  const struct = new WgslReflect(code).structs.find((s) => s.name === name);
  if (!struct) throw new Error(`augment kernel: no struct ${name}`);
  const members = struct.members.map((m) => {
    // Reflection spells scalar types either way: `vec2<f32>` or `vec2f`.
    const match = /(u32|i32|f32)|vec\d([uif])\b/.exec(m.type.getTypeName());
    const scalarType = (match?.[1] ?? `${match?.[2]}32`) as 'u32' | 'i32' | 'f32';
    return { name: m.name, offset: m.offset, scalars: m.size / 4, scalarType };
  });
  return { byteSize: Math.ceil(struct.size / struct.align) * struct.align, members };
}

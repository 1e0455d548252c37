/**
 * Float64 reference implementations on plain arrays, written independently of the kernels, and
 * central finite differences over them. Shapes are row-major.
 */
export type Shape = readonly number[];

export const size = (shape: Shape) => shape.reduce((p, d) => p * d, 1);

export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

export function unravel(index: number, shape: Shape): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
  }
  return coords;
}

export function broadcastShape(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}

/** Value of `data` (shape `shape`) at output coordinates under broadcasting. */
function at(data: ArrayLike<number>, shape: Shape, coords: number[]): number {
  const st = strides(shape);
  let offset = 0;
  const lead = coords.length - shape.length;
  for (let d = 0; d < shape.length; d++) offset += (shape[d] === 1 ? 0 : coords[lead + d]!) * st[d]!;
  return data[offset]!;
}

export function binaryRef(f: (a: number, b: number) => number, a: ArrayLike<number>, as: Shape, b: ArrayLike<number>, bs: Shape): Float64Array {
  const out = broadcastShape(as, bs);
  const result = new Float64Array(size(out));
  for (let i = 0; i < result.length; i++) {
    const c = unravel(i, out);
    result[i] = f(at(a, as, c), at(b, bs, c));
  }
  return result;
}

/** Reduces over `axes` with `f` (sum/max), returning the keep-dims-free result. */
export function reduceRef(kind: 'sum' | 'max' | 'mean', x: ArrayLike<number>, shape: Shape, axes: number[]): { data: Float64Array; shape: number[] } {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(size(outShape)).fill(kind === 'max' ? -Infinity : 0);
  const count = axes.reduce((p, a) => p * shape[a]!, 1);
  const ost = strides(outShape);
  for (let i = 0; i < size(shape); i++) {
    const c = unravel(i, shape);
    const o = c.reduce((acc, v, d) => acc + (axes.includes(d) ? 0 : v * ost[d]!), 0);
    out[o] = kind === 'max' ? Math.max(out[o]!, x[i]!) : out[o]! + x[i]!;
  }
  if (kind === 'mean') for (let i = 0; i < out.length; i++) out[i]! /= count;
  return { data: out, shape: shape.filter((_, i) => !axes.includes(i)) };
}

/** op(A)·op(B) for 2-D or batched 3-D operands (a 2-D operand shared across the batch). */
export function matmulRef(a: ArrayLike<number>, as: Shape, b: ArrayLike<number>, bs: Shape, transA = false, transB = false): Float64Array {
  const [ba, ra, ca] = as.length === 3 ? as : [1, as[0]!, as[1]!];
  const [bb, rb, cb] = bs.length === 3 ? bs : [1, bs[0]!, bs[1]!];
  const M = transA ? ca! : ra!;
  const K = transA ? ra! : ca!;
  const N = transB ? rb! : cb!;
  const batch = Math.max(ba!, bb!);
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = ba === 1 ? 0 : t * ra! * ca!;
    const bo = bb === 1 ? 0 : t * rb! * cb!;
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = a[ao + (transA ? k * ca! + m : m * ca! + k)]!;
          const bv = b[bo + (transB ? n * cb! + k : k * cb! + n)]!;
          acc += av * bv;
        }
        out[t * M * N + m * N + n] = acc;
      }
  }
  return out;
}

export function softmaxRef(x: ArrayLike<number>, shape: Shape, log: boolean): Float64Array {
  const cols = shape[shape.length - 1]!;
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]!);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[r * cols + j]! - m);
    for (let j = 0; j < cols; j++) {
      const v = x[r * cols + j]! - m;
      out[r * cols + j] = log ? v - Math.log(s) : Math.exp(v) / s;
    }
  }
  return out;
}

export function permuteRef(x: ArrayLike<number>, shape: Shape, order: number[]): Float64Array {
  const outShape = order.map((d) => shape[d]!);
  const st = strides(shape);
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) {
    const c = unravel(i, outShape);
    out[i] = x[c.reduce((acc, v, d) => acc + v * st[order[d]!]!, 0)]!;
  }
  return out;
}

/** A square-kernel 2-D convolution (cross-correlation, no bias) of x [N, C, H, W] with w [O, C, K, K], zero padding. */
export function conv2dRef(x: ArrayLike<number>, xs: Shape, w: ArrayLike<number>, ws: Shape, stride: number, padding: number): { data: Float64Array; shape: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, , k] = ws as [number, number, number, number];
  const oh = Math.floor((h + 2 * padding - k) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - k) / stride) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let f = 0; f < o; f++) {
      for (let y = 0; y < oh; y++) {
        for (let xo = 0; xo < ow; xo++) {
          let sum = 0;
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < k; i++) {
              const row = y * stride - padding + i;
              if (row < 0 || row >= h) continue;
              for (let j = 0; j < k; j++) {
                const col = xo * stride - padding + j;
                if (col < 0 || col >= wd) continue;
                sum += x[((b * c + ch) * h + row) * wd + col]! * w[((f * c + ch) * k + i) * k + j]!;
              }
            }
          }
          out[((b * o + f) * oh + y) * ow + xo] = sum;
        }
      }
    }
  }
  return { data: out, shape: [n, o, oh, ow] };
}

/** Central differences of a scalar function of several float64 inputs. */
export function finiteDifferences(f: (inputs: Float64Array[]) => number, inputs: Float64Array[], h = 1e-6): Float64Array[] {
  return inputs.map((x) => {
    const grad = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const saved = x[i]!;
      x[i] = saved + h;
      const up = f(inputs);
      x[i] = saved - h;
      const down = f(inputs);
      x[i] = saved;
      grad[i] = (up - down) / (2 * h);
    }
    return grad;
  });
}

/** Seeded uniform values in [low, high). */
export function randomArray(n: number, seed: number, low = -1, high = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = low + ((s >>> 0) / 4294967296) * (high - low);
  }
  return out;
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

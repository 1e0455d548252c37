/**
 * Procedural images for the embedded demo: shapes and textures drawn with signed distance
 * functions (anti-aliased), random colours, sizes, positions, rotations and noise.
 *
 * Two tasks that resemble the real situation of transfer learning:
 *   - the SOURCE task (the stand-in for ImageNet): ten classes of shapes and textures, plenty
 *     of images, used once to pretrain a small VGG (scripts/pretrain-demo.ts);
 *   - the TARGET task (the stand-in for cats vs dogs): four NEW shape classes never seen in
 *     pretraining, with a handful of labelled images each. What transfers is the low-level
 *     vocabulary (edges, corners, curves, fills), not the classes.
 */
import { randomWords, uniformFloat } from '../data/random.js';
import { mulberry32 } from '../ops/creation.js';

export interface ShapeImage {
  /** RGB, row-major, height x width x 3 (square: width = height = the drawn size). */
  pixels: Uint8Array;
  width: number;
  height: number;
  label: number;
}

type Vec = [number, number];
/** Signed distance to a shape in its own frame (unit scale, centred at the origin): < 0 inside. */
type Sdf = (x: number, y: number) => number;

const circle: Sdf = (x, y) => Math.hypot(x, y) - 1;
const box = (hx: number, hy: number): Sdf => (x, y) => {
  const dx = Math.abs(x) - hx;
  const dy = Math.abs(y) - hy;
  return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
};
const union = (...parts: Sdf[]): Sdf => (x, y) => Math.min(...parts.map((f) => f(x, y)));
const subtract = (a: Sdf, b: Sdf): Sdf => (x, y) => Math.max(a(x, y), -b(x, y));
const shifted = (f: Sdf, dx: number, dy: number): Sdf => (x, y) => f(x - dx, y - dy);

/** A convex or star polygon through `points` (distance sign by the even-odd rule). */
function polygon(points: Vec[]): Sdf {
  return (x, y) => {
    let d = Infinity;
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [ax, ay] = points[i]!;
      const [bx, by] = points[j]!;
      const ex = bx - ax;
      const ey = by - ay;
      const t = Math.max(0, Math.min(1, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey)));
      d = Math.min(d, Math.hypot(x - ax - t * ex, y - ay - t * ey));
      if (ay > y !== by > y && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inside = !inside;
    }
    return inside ? -d : d;
  };
}

const regular = (sides: number, radius = 1, inner?: number): Vec[] =>
  Array.from({ length: inner ? sides * 2 : sides }, (_, i) => {
    const r = inner && i % 2 === 1 ? inner : radius;
    const a = (Math.PI * 2 * i) / (inner ? sides * 2 : sides) - Math.PI / 2;
    return [r * Math.cos(a), r * Math.sin(a)];
  });

interface ClassSpec {
  name: string;
  /** A filled shape, or a texture that covers the image: value in [0, 1] is the foreground weight. */
  shape?: Sdf;
  texture?: (x: number, y: number, period: number) => number;
}

export const SOURCE_CLASSES: ClassSpec[] = [
  { name: 'circle', shape: circle },
  { name: 'square', shape: box(0.85, 0.85) },
  { name: 'triangle', shape: polygon(regular(3, 1.1)) },
  { name: 'plus', shape: union(box(1, 0.3), box(0.3, 1)) },
  { name: 'ring', shape: subtract(circle, (x, y) => Math.hypot(x, y) - 0.55) },
  { name: 'bar', shape: box(1, 0.28) },
  { name: 'stripes', texture: (x, _y, p) => 0.5 + 0.5 * Math.sin((2 * Math.PI * x) / p) },
  { name: 'checks', texture: (x, y, p) => (Math.floor(x / p) + Math.floor(y / p)) % 2 },
  { name: 'dots', texture: (x, y, p) => (Math.hypot(((x % p) + p) % p - p / 2, ((y % p) + p) % p - p / 2) < p / 3.5 ? 1 : 0) },
  { name: 'gradient', texture: (x) => Math.min(1, Math.max(0, 0.5 + x / 24)) },
];

export const TARGET_CLASSES: ClassSpec[] = [
  { name: 'star', shape: polygon(regular(5, 1.1, 0.45)) },
  { name: 'hexagon', shape: polygon(regular(6, 1)) },
  { name: 'crescent', shape: subtract(circle, shifted(circle, 0.55, -0.15)) },
  { name: 'ell', shape: union(shifted(box(0.25, 0.95), -0.6, 0), shifted(box(0.75, 0.25), 0.1, 0.7)) },
];

export interface ShapeTaskOptions {
  size: number;
  perClass: number;
  seed: number;
  /** Which draw stream: different streams give disjoint images (train vs held-out). */
  stream: number;
}

/** Draws `perClass` images of every class; deterministic in (seed, stream). */
export function drawTask(classes: ClassSpec[], options: ShapeTaskOptions): ShapeImage[] {
  const images: ShapeImage[] = [];
  for (let label = 0; label < classes.length; label++) {
    for (let i = 0; i < options.perClass; i++) {
      const index = (options.stream * 1_000_003 + label * 100_003 + i) >>> 0;
      images.push({ pixels: drawImage(classes[label]!, options.size, options.seed, index), width: options.size, height: options.size, label });
    }
  }
  return images;
}

function drawImage(spec: ClassSpec, size: number, seed: number, index: number): Uint8Array {
  let draw = 0;
  const u = () => uniformFloat(seed, 0x5a17e5, index, draw++);
  const background = randomColour(u);
  let foreground = randomColour(u);
  // Keep the shape visible: push the colours apart if they are too close.
  if (colourDistance(foreground, background) < 120) foreground = foreground.map((c, k) => (background[k]! > 127 ? c * 0.3 : 255 - (255 - c) * 0.3)) as Rgb;
  const scale = size * (0.22 + 0.16 * u());
  const cx = size / 2 + (u() - 0.5) * size * 0.3;
  const cy = size / 2 + (u() - 0.5) * size * 0.3;
  const angle = u() * Math.PI * 2;
  const period = size / (3 + 3 * u());
  const noise = 6 + 10 * u();
  const pixelNoise = mulberry32(randomWords(seed, 0x5a17e6, index)[0]); // cheap: one draw per channel
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Pixel centre in the shape's rotated, scaled frame.
      const px = x + 0.5 - cx;
      const py = y + 0.5 - cy;
      const rx = (cos * px + sin * py) / scale;
      const ry = (-sin * px + cos * py) / scale;
      let weight: number;
      if (spec.shape) {
        const distancePixels = spec.shape(rx, ry) * scale;
        weight = Math.min(1, Math.max(0, 0.5 - distancePixels)); // anti-aliased edge
      } else {
        weight = spec.texture!(rx * scale, ry * scale, period);
      }
      for (let c = 0; c < 3; c++) {
        const value = background[c]! + (foreground[c]! - background[c]!) * weight + (pixelNoise() - 0.5) * 2 * noise;
        pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return pixels;
}

type Rgb = [number, number, number];

function randomColour(u: () => number): Rgb {
  return [u() * 255, u() * 255, u() * 255];
}

function colourDistance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

import { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { broadcastShape, runBinary, runBinaryInPlace, runUnary, type BinaryOp, type UnaryOp } from '../kernels/elementwise.js';
import { runReduce } from '../kernels/reduce.js';
import { expectFloat, shapeError } from './checks.js';

// Element-wise operations and their gradients, each rule written beside its forward.

function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  expectFloat(op, a, b);
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) throw shapeError(op, 'operands do not broadcast', a, b);
  return runBinary(op, a, b, shape);
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record('add', binary('add', a, b), [a, b], [], (g, _, needs) => [
    needs[0] ? sumToShape(g, a.shape) : null,
    needs[1] ? sumToShape(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record('sub', binary('sub', a, b), [a, b], [], (g, _, needs) => [
    needs[0] ? sumToShape(g, a.shape) : null,
    needs[1] ? sumToShape(runUnary('neg', g), b.shape, true) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record('mul', binary('mul', a, b), [a, b], [a, b], (g, [as, bs], needs) => [
    needs[0] ? sumToShape(runBinary('mul', g, bs!, g.shape), a.shape, true) : null,
    needs[1] ? sumToShape(runBinary('mul', g, as!, g.shape), b.shape, true) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  return record('div', binary('div', a, b), [a, b], [a, b], (g, [as, bs], needs) => {
    const ga = needs[0] || needs[1] ? runBinary('div', g, bs!, g.shape) : null; // g / b
    let gb: Tensor | null = null;
    if (needs[1]) {
      // d(a/b)/db = -a/b² = -(g/b)·(a/b)
      const ratio = runBinary('div', as!, bs!, g.shape);
      const prod = runBinary('mul', ga!, ratio, g.shape);
      gb = sumToShape(runUnary('neg', prod), b.shape, true);
      ratio.dispose();
      prod.dispose();
    }
    const gaOut = needs[0] ? sumToShape(ga!, a.shape, true) : (ga?.dispose(), null);
    return [gaOut, gb];
  });
}

function unary(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  expectFloat(op, x);
  return runUnary(op, x, alpha);
}

export function neg(x: Tensor): Tensor {
  return record('neg', unary('neg', x), [x], [], (g) => [runUnary('neg', g)]);
}

/** x · s for a number s. */
export function scale(x: Tensor, s: number): Tensor {
  return record('scale', unary('scale', x, s), [x], [], (g) => [runUnary('scale', g, s)]);
}

/** x + s for a number s. */
export function addScalar(x: Tensor, s: number): Tensor {
  return record('addScalar', unary('add_scalar', x, s), [x], [], (g) => [runUnary('scale', g, 1)]);
}

export function exp(x: Tensor): Tensor {
  const y = unary('exp', x);
  return record('exp', y, [x], [y], (g, [ys]) => [runBinary('mul', g, ys!, g.shape)]);
}

export function log(x: Tensor): Tensor {
  return record('log', unary('log', x), [x], [x], (g, [xs]) => [runBinary('div', g, xs!, g.shape)]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unary('sqrt', x);
  // d√x = 1 / (2√x)
  return record('sqrt', y, [x], [y], (g, [ys]) => {
    const half = runBinary('div', g, ys!, g.shape);
    const out = runUnary('scale', half, 0.5);
    half.dispose();
    return [out];
  });
}

/** x^p for a number p. */
export function powScalar(x: Tensor, p: number): Tensor {
  return record('powScalar', unary('pow_scalar', x, p), [x], [x], (g, [xs]) => {
    // d(x^p) = p · x^(p-1)
    const d = runUnary('pow_scalar', xs!, p - 1);
    const scaled = runUnary('scale', d, p);
    const out = runBinary('mul', g, scaled, g.shape);
    d.dispose();
    scaled.dispose();
    return [out];
  });
}

/**
 * Saves its output, not its input: y > 0 exactly where x > 0, so the gradient is the same, and y
 * is usually what the next layer saves anyway (a convolution's input), so x can be freed. What
 * PyTorch's in-place ReLU achieves: VGG16's saved activations at 224x224 halve.
 *
 * The gradient is masked in place when nothing else holds the incoming one (backward disposes it
 * after the rule; a gradient that a sum handed to two branches is shared, and is copied): one
 * activation-sized buffer fewer at the peak of VGG16's backward (bench/memory.ts).
 */
export function relu(x: Tensor): Tensor {
  const y = unary('relu', x);
  return record('relu', y, [x], [y], (g, [ys]) => [reluGrad(g, ys!)]);
}

/** ReLU's gradient from its output y: g where y > 0, else 0; written over g when nothing else holds it. */
export function reluGrad(g: Tensor, y: Tensor): Tensor {
  if (!g.ownsStorage) return runBinary('relu_backward', g, y, g.shape);
  runBinaryInPlace('relu_backward', g, y);
  return g.share();
}

export function sigmoid(x: Tensor): Tensor {
  const y = unary('sigmoid', x);
  // dσ = σ(1 - σ)
  return record('sigmoid', y, [x], [y], (g, [ys]) => [derivativeFromOutput(g, ys!, 'sigmoid')]);
}

export function tanh(x: Tensor): Tensor {
  const y = unary('tanh', x);
  // dtanh = 1 - tanh²
  return record('tanh', y, [x], [y], (g, [ys]) => [derivativeFromOutput(g, ys!, 'tanh')]);
}

// Backward rules run inside a scope (autograd/backward.ts): intermediates they make are freed.
function derivativeFromOutput(g: Tensor, y: Tensor, kind: 'sigmoid' | 'tanh'): Tensor {
  const oneMinusY = runUnary('add_scalar', runUnary('neg', y), 1);
  const d = kind === 'tanh' ? runBinary('mul', runUnary('add_scalar', y, 1), oneMinusY, y.shape) : runBinary('mul', y, oneMinusY, y.shape);
  return runBinary('mul', g, d, g.shape);
}

/**
 * Sums a broadcast gradient back to an operand's shape: over leading axes the operand lacks and
 * over axes where it had size 1. `consume` disposes `g` when a new tensor is returned.
 */
export function sumToShape(g: Tensor, shape: readonly number[], consume = false): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return consume ? g : g.share();
  const offset = g.ndim - shape.length;
  let current = g;
  let currentShape = [...g.shape];
  for (let axis = g.ndim - 1; axis >= 0; axis--) {
    const target = axis < offset ? 1 : shape[axis - offset]!;
    if (target === 1 && currentShape[axis] !== 1) {
      const outer = currentShape.slice(0, axis).reduce((p, d) => p * d, 1);
      const inner = currentShape.slice(axis + 1).reduce((p, d) => p * d, 1);
      const reduced = currentShape[axis]!;
      currentShape[axis] = 1;
      const next = runReduce('sum', current, outer, reduced, inner, currentShape);
      if (current !== g || consume) current.dispose();
      current = next;
    }
  }
  const out = current.view(shape);
  if (current !== g || consume) current.dispose();
  return out;
}

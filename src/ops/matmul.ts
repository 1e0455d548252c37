import type { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runGemm } from '../kernels/matmul.js';
import { runReduce } from '../kernels/reduce.js';
import { expectFloat, shapeError } from './checks.js';

export interface MatmulOptions {
  /** Use the transpose of the last two axes of a / b, read in place (no copy). */
  transA?: boolean;
  transB?: boolean;
}

/**
 * Matrix product op(a) · op(b). Shapes: [M,K]·[K,N]; [...,M,K]·[K,N] (leading axes of a are
 * folded into M, which is free for a contiguous tensor); [B,M,K]·[B,K,N] batched.
 *
 * With Ā = op(A), B̄ = op(B): dĀ = g·B̄ᵀ and dB̄ = Āᵀ·g, each also read with transposes in place.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  expectFloat('matmul', a, b);
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2 || b.ndim > 3 || (b.ndim === 3 && a.ndim !== 3)) {
    throw shapeError('matmul', 'expected [M,K]·[K,N], [...,M,K]·[K,N] or [B,M,K]·[B,K,N]', a, b);
  }
  const folded = a.ndim > 2 && b.ndim === 2;
  if (folded && transA) throw shapeError('matmul', 'transA with leading batch axes is not supported', a, b);
  const a2 = folded ? a.view([-1, a.shape[a.ndim - 1]!]) : a;
  const out = runGemm(a2, b, { transA, transB });
  const y = folded ? out.view([...a.shape.slice(0, -1), out.shape[1]!]) : out;
  if (folded) {
    a2.dispose();
    out.dispose();
  }
  return record('matmul', y, [a, b], [a, b], (g, [as, bs], needs) => {
    const g2 = folded ? g.view([-1, g.shape[g.ndim - 1]!]) : g;
    const A = folded ? as!.view(a2.shape) : as!;
    const ga = needs[0]
      ? transA
        ? runGemm(bs!, g2, { transA: transB, transB: true })
        : runGemm(g2, bs!, { transB: !transB })
      : null;
    const gb = needs[1]
      ? transB
        ? runGemm(g2, A, { transA: true, transB: transA })
        : runGemm(A, g2, { transA: !transA })
      : null;
    return [ga, gb];
  });
}

/**
 * A fully connected layer, y = x·Wᵀ + b with W of shape [out, in] as PyTorch stores it.
 * The bias is added by the matmul kernel itself; W is never transposed in memory.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  expectFloat('linear', x, weight);
  const inFeatures = weight.shape[1];
  if (weight.ndim !== 2 || x.shape[x.ndim - 1] !== inFeatures) {
    throw shapeError(`linear (weight '${weight.name}')`, `input features must equal the weight's second dimension`, x, weight);
  }
  const x2 = x.view([-1, inFeatures!]);
  const out = runGemm(x2, weight, { transB: true, bias });
  const y = out.view([...x.shape.slice(0, -1), weight.shape[0]!]);
  x2.dispose();
  out.dispose();
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // Saves x only if W needs a gradient and W only if x does: a frozen layer keeps no activation.
  const needW = weight.requiresGrad;
  const needX = x.requiresGrad;
  return record('linear', y, inputs, [needW ? x : null, needX ? weight : null].filter((t): t is Tensor => t !== null), (g, saved, needs) => {
    const xs = needW ? saved[0]! : null;
    const ws = needX ? saved[needW ? 1 : 0]! : null;
    const g2 = g.view([-1, weight.shape[0]!]);
    const gx = needs[0] ? runGemm(g2, ws!).view(x.shape) : null;
    const gw = needs[1] ? runGemm(g2, xs!.view([-1, inFeatures!]), { transA: true }) : null;
    const gb = bias && needs[2] ? runReduce('sum', g2, 1, g2.shape[0]!, g2.shape[1]!, [g2.shape[1]!]) : null;
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}

/**
 * Reference (mixed) cross-entropy in f64: the definition of what
 * kernels/cross_entropy.wgsl computes.
 *
 *   loss = (1/N) Σ_n λ_n·(lse_n − x[n, a_n]) + (1 − λ_n)·(lse_n − x[n, b_n])
 *   dx[n, c] = g/N · (softmax(x_n)[c] − λ_n·[c = a_n] − (1 − λ_n)·[c = b_n])
 *
 * The plain form is a = b (or λ = 1). A label outside [0, C) gives NaN for
 * that row's loss (hence the mean) and gradient, as on the GPU.
 */

function lam(l: number | ArrayLike<number>, n: number): number {
  return typeof l === 'number' ? l : l[n]!;
}

function rowLse(x: ArrayLike<number>, b: number, cols: number): number {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) m = Math.max(m, x[b + c]!);
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(x[b + c]! - m);
  return m + Math.log(s);
}

const valid = (y: number, cols: number): boolean => Number.isInteger(y) && y >= 0 && y < cols;

export function mixedCrossEntropyRef(
  x: ArrayLike<number>,
  cols: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  lambda: number | ArrayLike<number>,
): number {
  const rows = x.length / cols;
  let total = 0;
  for (let n = 0; n < rows; n++) {
    if (!valid(a[n]!, cols) || !valid(b[n]!, cols)) return NaN;
    const base = n * cols;
    const lse = rowLse(x, base, cols);
    const l = lam(lambda, n);
    total += l * (lse - x[base + a[n]!]!) + (1 - l) * (lse - x[base + b[n]!]!);
  }
  return total / rows;
}

export function crossEntropyRef(x: ArrayLike<number>, cols: number, labels: ArrayLike<number>): number {
  return mixedCrossEntropyRef(x, cols, labels, labels, 1);
}

/** Gradient w.r.t. the logits for an upstream gradient g of the mean loss. */
export function mixedCrossEntropyBackwardRef(
  x: ArrayLike<number>,
  cols: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  lambda: number | ArrayLike<number>,
  g = 1,
): Float64Array {
  const rows = x.length / cols;
  const dx = new Float64Array(x.length);
  for (let n = 0; n < rows; n++) {
    const base = n * cols;
    if (!valid(a[n]!, cols) || !valid(b[n]!, cols)) {
      dx.fill(NaN, base, base + cols);
      continue;
    }
    const lse = rowLse(x, base, cols);
    const l = lam(lambda, n);
    for (let c = 0; c < cols; c++) {
      const onehot = (c === a[n] ? l : 0) + (c === b[n] ? 1 - l : 0);
      dx[base + c] = (g / rows) * (Math.exp(x[base + c]! - lse) - onehot);
    }
  }
  return dx;
}

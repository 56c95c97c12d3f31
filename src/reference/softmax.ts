/**
 * Reference softmax / log-softmax along the last axis, in f64: the
 * definition of what kernels/softmax.wgsl computes, forward and backward.
 */

/** y[r, :] = softmax(x[r, :]) (or log-softmax) for x viewed as [rows, cols]. */
export function softmaxRef(x: ArrayLike<number>, cols: number, log = false): Float64Array {
  const rows = x.length / cols;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[b + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[b + c]! - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) y[b + c] = log ? x[b + c]! - lse : Math.exp(x[b + c]! - lse);
  }
  return y;
}

/**
 * Backward from the forward output y and upstream gradient g:
 * softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − exp(y) ⊙ Σ g.
 */
export function softmaxBackwardRef(y: ArrayLike<number>, g: ArrayLike<number>, cols: number, log = false): Float64Array {
  const rows = y.length / cols;
  const dx = new Float64Array(y.length);
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let d = 0;
    for (let c = 0; c < cols; c++) d += log ? g[b + c]! : g[b + c]! * y[b + c]!;
    for (let c = 0; c < cols; c++) dx[b + c] = log ? g[b + c]! - Math.exp(y[b + c]!) * d : y[b + c]! * (g[b + c]! - d);
  }
  return dx;
}

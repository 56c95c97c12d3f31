/** Plain-TypeScript (f64) LayerNorm over the last axis (biased variance, as PyTorch). */

export function layerNormRef(
  x: ArrayLike<number>,
  D: number,
  weight: ArrayLike<number> | null,
  bias: ArrayLike<number> | null,
  eps = 1e-5,
): { y: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const R = D === 0 ? 0 : x.length / D;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(R);
  const rstd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x[r * D + d]!;
    const mu = s / D;
    let q = 0;
    for (let d = 0; d < D; d++) q += (x[r * D + d]! - mu) ** 2;
    const rs = 1 / Math.sqrt(q / D + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let d = 0; d < D; d++) y[r * D + d] = (x[r * D + d]! - mu) * rs * (weight ? weight[d]! : 1) + (bias ? bias[d]! : 0);
  }
  return { y, mean, rstd };
}

/** Gradients of layerNormRef's y given dy. */
export function layerNormBackwardRef(
  x: ArrayLike<number>,
  D: number,
  weight: ArrayLike<number> | null,
  dy: ArrayLike<number>,
  eps = 1e-5,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const { mean, rstd } = layerNormRef(x, D, null, null, eps);
  const R = mean.length;
  const dx = new Float64Array(x.length);
  const dweight = new Float64Array(D);
  const dbias = new Float64Array(D);
  for (let r = 0; r < R; r++) {
    let sa = 0;
    let sb = 0;
    for (let d = 0; d < D; d++) {
      const k = r * D + d;
      const xhat = (x[k]! - mean[r]!) * rstd[r]!;
      const g = dy[k]! * (weight ? weight[d]! : 1);
      sa += g;
      sb += g * xhat;
      dweight[d] += dy[k]! * xhat;
      dbias[d] += dy[k]!;
    }
    for (let d = 0; d < D; d++) {
      const k = r * D + d;
      const xhat = (x[k]! - mean[r]!) * rstd[r]!;
      const g = dy[k]! * (weight ? weight[d]! : 1);
      dx[k] = rstd[r]! * (g - sa / D - (xhat * sb) / D);
    }
  }
  return { dx, dweight, dbias };
}

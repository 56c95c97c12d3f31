/**
 * Reference for maskSpread (src/ops/mask-stats.ts), in f64 over plain arrays:
 * each mask's population standard deviation over its S positions (two-pass:
 * mean, then squared deviations), and [mean, min, max] of those over the batch.
 */

/** σ_n for m viewed as [N, S]. */
export function maskStdRef(m: ArrayLike<number>, N: number, S: number): Float64Array {
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let t = 0;
    for (let s = 0; s < S; s++) t += m[n * S + s]!;
    const mu = t / S;
    let q = 0;
    for (let s = 0; s < S; s++) q += (m[n * S + s]! - mu) ** 2;
    out[n] = Math.sqrt(q / S);
  }
  return out;
}

/** [mean_n σ_n, min_n σ_n, max_n σ_n] for m viewed as [N, S]. */
export function maskSpreadRef(m: ArrayLike<number>, N: number, S: number): [number, number, number] {
  const sd = maskStdRef(m, N, S);
  let t = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of sd) {
    t += v;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [t / N, lo, hi];
}

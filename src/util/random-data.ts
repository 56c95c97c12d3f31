/**
 * Deterministic test and benchmark data: `n` values spread uniformly over [lo, hi) by an
 * xorshift32 stream from `seed`. Not a random generator for training (that is `Rng`, whose
 * streams derive from run keys); this is the one helper every test, bench and the autotuner use
 * for inputs whose only job is to be reproducible and non-trivial.
 */
export function uniformData(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

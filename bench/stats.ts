/**
 * Summary statistics of repeated timings (pure; tested in test/bench/).
 * Quantiles interpolate linearly between order statistics (NumPy's default).
 */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** 25th and 75th percentiles. */
  q1: number;
  q3: number;
  iqr: number;
  mean: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of the samples, linear interpolation. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = Math.min(Math.max(q, 0), 1) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN, iqr: NaN, mean: NaN };
  const q1 = quantile(xs, 0.25);
  const q3 = quantile(xs, 0.75);
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    min: Math.min(...xs),
    max: Math.max(...xs),
    q1,
    q3,
    iqr: q3 - q1,
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  };
}

/**
 * How many timed repeats fit a time budget, given one call's duration:
 * budget / perCall, clamped to [min, max].
 */
export function repeatsFor(perCallMs: number, budgetMs: number, min: number, max: number): number {
  if (!(perCallMs > 0) || !Number.isFinite(perCallMs)) return max;
  return Math.max(min, Math.min(max, Math.round(budgetMs / perCallMs)));
}

/** Largest |a[i] − b[i]| and largest |b[i]| (NaN anywhere gives NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) return { diff: Infinity, scale: 0 };
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return { diff: NaN, scale };
    if (d > diff) diff = d;
    const m = Math.abs(b[i]!);
    if (m > scale) scale = m;
  }
  return { diff, scale };
}

/** Plain-TypeScript (f64) GELU (erf form) and sigmoid, with their gradients. */

/**
 * erf in f64 to about 1e-14: Maclaurin series for |x| ≤ 4 (terms peak near
 * 1e5, so ~1e-11 absolute), asymptotic erfc series beyond (|erfc| < 2e-8 there).
 */
export function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = Math.abs(x);
  if (z <= 4) {
    // erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) ≈ exp(−z²)/(z√π) · Σ (−1)ⁿ (2n−1)!! / (2z²)ⁿ
  let term = 1;
  let s = 1;
  for (let n = 1; n < 30; n++) {
    const next = (term * -(2 * n - 1)) / (2 * z * z);
    if (Math.abs(next) >= Math.abs(term)) break;
    term = next;
    s += term;
  }
  const erfc = (Math.exp(-z * z) / (z * Math.sqrt(Math.PI))) * s;
  return Math.sign(x) * (1 - erfc);
}

export function geluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)));
}

/** dy·(Φ(x) + x·φ(x)) */
export function geluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => dy[i]! * (0.5 * (1 + erfRef(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI)));
}

export function sigmoidRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
}

/** dy·σ(x)·(1 − σ(x)) */
export function sigmoidBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v, i) => {
    const s = 1 / (1 + Math.exp(-v));
    return dy[i]! * s * (1 - s);
  });
}

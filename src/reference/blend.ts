/**
 * Reference for the batch mixing ops (src/ops/blend.ts), in f64 over plain
 * arrays. x is [N, C, S] flattened (S = H·W, or C = 1 and S = the rest of a
 * sample), π an integer array. The blend is
 *
 *   out[n, c, s] = a(n, s)·x[n, c, s] + b(n, s)·x[π[n], c, s]
 *
 * and its gradients are
 *
 *   dx[n'] = a(n')·G[n'] + Σ_{m: π[m] = n'} b(m)·G[m]        (scatter-add)
 *   ∂L/∂b(n, s) = Σ_c (x[π[n]] − x[n])·G[n]  when a = 1 − b (masks).
 */

export type Coefs = (n: number, s: number) => [number, number];

export interface Dims {
  N: number;
  C: number;
  S: number;
}

export function blendRef(x: ArrayLike<number>, perm: ArrayLike<number>, d: Dims, coefs: Coefs, rows = d.N): Float64Array {
  const row = d.C * d.S;
  const out = new Float64Array(rows * row);
  for (let n = 0; n < rows; n++) {
    const t = perm[n]!;
    for (let c = 0; c < d.C; c++) {
      for (let s = 0; s < d.S; s++) {
        const [a, b] = coefs(n, s);
        const e = c * d.S + s;
        let v = a === 0 ? 0 : a * x[n * row + e]!;
        if (t >= 0 && t < d.N) v += b * x[t * row + e]!;
        out[n * row + e] = v;
      }
    }
  }
  return out;
}

/** ∂L/∂x of the blend given G (rows = π.length rows of G). */
export function blendBackwardX(g: ArrayLike<number>, perm: ArrayLike<number>, d: Dims, coefs: Coefs, rows = d.N): Float64Array {
  const row = d.C * d.S;
  const dx = new Float64Array(d.N * row);
  for (let n = 0; n < rows; n++) {
    const t = perm[n]!;
    for (let e = 0; e < row; e++) {
      const s = e % d.S;
      const [a, b] = coefs(n, s);
      if (n < d.N && a !== 0) dx[n * row + e]! += a * g[n * row + e]!;
      if (t >= 0 && t < d.N) dx[t * row + e]! += b * g[n * row + e]!;
    }
  }
  return dx;
}

/** t[n, s] = Σ_c (x[π[n]] − x[n])·G[n] : ∂L/∂m_b for maskedBlend; −Σ_n t is ∂L/∂mask for maskMix. */
export function blendBackwardMask(x: ArrayLike<number>, g: ArrayLike<number>, perm: ArrayLike<number>, d: Dims): Float64Array {
  const row = d.C * d.S;
  const t = new Float64Array(d.N * d.S);
  for (let n = 0; n < d.N; n++) {
    const p = perm[n]!;
    for (let c = 0; c < d.C; c++) {
      for (let s = 0; s < d.S; s++) {
        const o = n * row + c * d.S + s;
        t[n * d.S + s]! += (x[p * row + c * d.S + s]! - x[o]!) * g[o]!;
      }
    }
  }
  return t;
}

// ---- the five ops ------------------------------------------------------

export function gatherBatchRef(x: ArrayLike<number>, perm: ArrayLike<number>, N: number): Float64Array {
  return blendRef(x, perm, { N, C: 1, S: x.length / N }, () => [0, 1], perm.length);
}

export function gatherBatchBackwardRef(g: ArrayLike<number>, perm: ArrayLike<number>, N: number): Float64Array {
  return blendBackwardX(g, perm, { N, C: 1, S: g.length / perm.length }, () => [0, 1], perm.length);
}

/** maskB is [N, 1, H, W]: a = 1 − m, b = m. */
export function maskedBlendRef(x: ArrayLike<number>, maskB: ArrayLike<number>, perm: ArrayLike<number>, d: Dims): Float64Array {
  return blendRef(x, perm, d, (n, s) => [1 - maskB[n * d.S + s]!, maskB[n * d.S + s]!]);
}

export function mixupRef(x: ArrayLike<number>, perm: ArrayLike<number>, lam: number, N: number): Float64Array {
  return blendRef(x, perm, { N, C: 1, S: x.length / N }, () => [lam, 1 - lam]);
}

export function boxCoefs(W: number, box: { y0: number; x0: number; y1: number; x1: number }): Coefs {
  return (_n, s) => {
    const y = Math.floor(s / W);
    const xx = s % W;
    const inside = y >= box.y0 && y < box.y1 && xx >= box.x0 && xx < box.x1;
    return inside ? [0, 1] : [1, 0];
  };
}

export function boxMixRef(
  x: ArrayLike<number>,
  perm: ArrayLike<number>,
  d: Dims & { W: number },
  box: { y0: number; x0: number; y1: number; x1: number },
): Float64Array {
  return blendRef(x, perm, d, boxCoefs(d.W, box));
}

/** mask is [H, W], shared by the batch: a = mask, b = 1 − mask. */
export function maskMixRef(x: ArrayLike<number>, mask: ArrayLike<number>, perm: ArrayLike<number>, d: Dims): Float64Array {
  return blendRef(x, perm, d, (_n, s) => [mask[s]!, 1 - mask[s]!]);
}

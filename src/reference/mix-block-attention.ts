/**
 * Reference Mix Block attention (docs/method.md §2.2 steps 1–6 and §2.3 steps 4–5), in
 * f64, written the way docs/method.md §2.2–§2.3 states it: no packing, no fusion.
 *
 * z [N, C, h, w] flattened, π an integer array, wq [d, C'], bq [d], wv [1, C'],
 * bv [1]; with `lam` the λ channel is appended (λ on z_a, 1−λ on z_b).
 * Returns s [N, 1, h, w].
 */

export interface MixBlockDims {
  N: number;
  C: number;
  L: number;
  d: number;
}

interface Fwd {
  Q: Float64Array; // [N, L, d]
  K: Float64Array; // [N, L, d]
  v: Float64Array; // [N, L]
  A: Float64Array; // [N, L, L]
  s: Float64Array; // [N, L]
}

/** Feature c of sample n at position p with the optional λ channel (value lamVal). */
function feat(z: ArrayLike<number>, D: MixBlockDims, n: number, c: number, p: number, lamVal: number): number {
  return c < D.C ? z[(n * D.C + c) * D.L + p]! : lamVal;
}

function forward(
  z: ArrayLike<number>,
  perm: ArrayLike<number>,
  wq: ArrayLike<number>,
  bq: ArrayLike<number>,
  wv: ArrayLike<number>,
  bv: ArrayLike<number>,
  D: MixBlockDims,
  lam?: number,
): Fwd {
  const { N, L, d } = D;
  const Cp = D.C + (lam === undefined ? 0 : 1);
  const la = lam ?? 0;
  const lb = 1 - la;
  const Q = new Float64Array(N * L * d);
  const K = new Float64Array(N * L * d);
  const v = new Float64Array(N * L);
  for (let n = 0; n < N; n++) {
    const nb = perm[n]!;
    for (let p = 0; p < L; p++) {
      for (let k = 0; k < d; k++) {
        let q = bq[k]!;
        let kk = bq[k]!;
        for (let c = 0; c < Cp; c++) {
          q += wq[k * Cp + c]! * feat(z, D, n, c, p, la);
          kk += wq[k * Cp + c]! * feat(z, D, nb, c, p, lb);
        }
        Q[(n * L + p) * d + k] = q;
        K[(n * L + p) * d + k] = kk;
      }
      let vv = bv[0]!;
      for (let c = 0; c < Cp; c++) vv += wv[c]! * feat(z, D, nb, c, p, lb);
      v[n * L + p] = vv;
    }
  }
  const A = new Float64Array(N * L * L);
  const s = new Float64Array(N * L);
  const scale = 1 / Math.sqrt(d);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < L; i++) {
      const row = (n * L + i) * L;
      let m = -Infinity;
      for (let j = 0; j < L; j++) {
        let u = 0;
        for (let k = 0; k < d; k++) u += Q[(n * L + i) * d + k]! * K[(n * L + j) * d + k]!;
        A[row + j] = u * scale;
        m = Math.max(m, A[row + j]!);
      }
      let l = 0;
      for (let j = 0; j < L; j++) l += A[row + j] = Math.exp(A[row + j]! - m);
      let acc = 0;
      for (let j = 0; j < L; j++) acc += (A[row + j]! /= l) * v[n * L + j]!;
      s[n * L + i] = acc;
    }
  }
  return { Q, K, v, A, s };
}

export function mixBlockLogitsRef(
  z: ArrayLike<number>,
  perm: ArrayLike<number>,
  wq: ArrayLike<number>,
  bq: ArrayLike<number>,
  wv: ArrayLike<number>,
  bv: ArrayLike<number>,
  D: MixBlockDims,
  lam?: number,
): Float64Array {
  return forward(z, perm, wq, bq, wv, bv, D, lam).s;
}

/** Gradients of Σ ds⊙s w.r.t. wq, bq, wv, bv (docs/method.md §2.3 steps 4–5). */
export function mixBlockLogitsBackwardRef(
  z: ArrayLike<number>,
  perm: ArrayLike<number>,
  wq: ArrayLike<number>,
  bq: ArrayLike<number>,
  wv: ArrayLike<number>,
  bv: ArrayLike<number>,
  ds: ArrayLike<number>,
  D: MixBlockDims,
  lam?: number,
): { dwq: Float64Array; dbq: Float64Array; dwv: Float64Array; dbv: Float64Array } {
  const { N, L, d } = D;
  const Cp = D.C + (lam === undefined ? 0 : 1);
  const la = lam ?? 0;
  const lb = 1 - la;
  const { Q, K, v, A } = forward(z, perm, wq, bq, wv, bv, D, lam);
  const scale = 1 / Math.sqrt(d);
  const dwq = new Float64Array(d * Cp);
  const dbq = new Float64Array(d);
  const dwv = new Float64Array(Cp);
  const dbv = new Float64Array(1);
  const dA = new Float64Array(L);
  const dU = new Float64Array(L);
  for (let n = 0; n < N; n++) {
    const nb = perm[n]!;
    const dQ = new Float64Array(L * d);
    const dK = new Float64Array(L * d);
    const dv = new Float64Array(L);
    for (let i = 0; i < L; i++) {
      const row = (n * L + i) * L;
      const g = ds[n * L + i]!;
      // ∂v = Aᵀ·∂s, ∂A = ∂s·vᵀ, ∂U = A⊙(∂A − rowsum(∂A⊙A))/√d
      let dot = 0;
      for (let j = 0; j < L; j++) {
        dv[j]! += A[row + j]! * g;
        dA[j] = g * v[n * L + j]!;
        dot += dA[j]! * A[row + j]!;
      }
      for (let j = 0; j < L; j++) dU[j] = A[row + j]! * (dA[j]! - dot) * scale;
      // ∂Q = ∂U·K, ∂K = ∂Uᵀ·Q
      for (let j = 0; j < L; j++) {
        for (let k = 0; k < d; k++) {
          dQ[i * d + k]! += dU[j]! * K[(n * L + j) * d + k]!;
          dK[j * d + k]! += dU[j]! * Q[(n * L + i) * d + k]!;
        }
      }
    }
    // ∂W_q = Σ_p ∂Q ⊗ z_a + ∂K ⊗ z_b, ∂b_q = Σ ∂Q + ∂K, ∂w_v = Σ ∂v ⊗ z_b, ∂b_v = Σ ∂v
    for (let p = 0; p < L; p++) {
      for (let k = 0; k < d; k++) {
        dbq[k]! += dQ[p * d + k]! + dK[p * d + k]!;
        for (let c = 0; c < Cp; c++) {
          dwq[k * Cp + c]! += dQ[p * d + k]! * feat(z, D, n, c, p, la) + dK[p * d + k]! * feat(z, D, nb, c, p, lb);
        }
      }
      dbv[0]! += dv[p]!;
      for (let c = 0; c < Cp; c++) dwv[c]! += dv[p]! * feat(z, D, nb, c, p, lb);
    }
  }
  return { dwq, dbq, dwv, dbv };
}

/**
 * Reference multi-head attention in f64: out = softmax(q·kᵀ·scale)·v per
 * (batch·head) slice, with q [BH, Lq, dh], k [BH, Lk, dh], v [BH, Lk, dv]
 * flattened; and its backward
 *   dv = Pᵀ·dO, dP = dO·vᵀ, dS = scale·P⊙(dP − rowsum(P⊙dP)), dq = dS·k, dk = dSᵀ·q.
 */

export interface AttnDims {
  BH: number;
  Lq: number;
  Lk: number;
  dh: number;
  dv: number;
}

function probs(q: ArrayLike<number>, k: ArrayLike<number>, d: AttnDims, scale: number): Float64Array {
  const P = new Float64Array(d.BH * d.Lq * d.Lk);
  for (let b = 0; b < d.BH; b++) {
    for (let i = 0; i < d.Lq; i++) {
      const row = (b * d.Lq + i) * d.Lk;
      let m = -Infinity;
      for (let j = 0; j < d.Lk; j++) {
        let s = 0;
        for (let c = 0; c < d.dh; c++) s += q[(b * d.Lq + i) * d.dh + c]! * k[(b * d.Lk + j) * d.dh + c]!;
        P[row + j] = s * scale;
        m = Math.max(m, P[row + j]!);
      }
      let l = 0;
      for (let j = 0; j < d.Lk; j++) l += P[row + j] = Math.exp(P[row + j]! - m);
      for (let j = 0; j < d.Lk; j++) P[row + j]! /= l;
    }
  }
  return P;
}

export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, d: AttnDims, scale: number): Float64Array {
  const P = probs(q, k, d, scale);
  const out = new Float64Array(d.BH * d.Lq * d.dv);
  for (let b = 0; b < d.BH; b++)
    for (let i = 0; i < d.Lq; i++)
      for (let j = 0; j < d.Lk; j++) {
        const pij = P[(b * d.Lq + i) * d.Lk + j]!;
        for (let c = 0; c < d.dv; c++) out[(b * d.Lq + i) * d.dv + c]! += pij * v[(b * d.Lk + j) * d.dv + c]!;
      }
  return out;
}

export function attentionBackwardRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dO: ArrayLike<number>,
  d: AttnDims,
  scale: number,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const P = probs(q, k, d, scale);
  const dq = new Float64Array(d.BH * d.Lq * d.dh);
  const dk = new Float64Array(d.BH * d.Lk * d.dh);
  const dv = new Float64Array(d.BH * d.Lk * d.dv);
  const dP = new Float64Array(d.Lk);
  for (let b = 0; b < d.BH; b++) {
    for (let i = 0; i < d.Lq; i++) {
      const row = (b * d.Lq + i) * d.Lk;
      let dot = 0;
      for (let j = 0; j < d.Lk; j++) {
        let s = 0;
        for (let c = 0; c < d.dv; c++) {
          const go = dO[(b * d.Lq + i) * d.dv + c]!;
          s += go * v[(b * d.Lk + j) * d.dv + c]!;
          dv[(b * d.Lk + j) * d.dv + c]! += P[row + j]! * go;
        }
        dP[j] = s;
        dot += s * P[row + j]!;
      }
      for (let j = 0; j < d.Lk; j++) {
        const dS = scale * P[row + j]! * (dP[j]! - dot);
        for (let c = 0; c < d.dh; c++) {
          dq[(b * d.Lq + i) * d.dh + c]! += dS * k[(b * d.Lk + j) * d.dh + c]!;
          dk[(b * d.Lk + j) * d.dh + c]! += dS * q[(b * d.Lq + i) * d.dh + c]!;
        }
      }
    }
  }
  return { dq, dk, dv };
}

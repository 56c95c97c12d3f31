/**
 * Multi-head scaled dot-product attention for a small ViT:
 *
 *   attention(q, k, v) = softmax(q·kᵀ·scale)·v,  q [B, H, Lq, dh], k [B, H, Lk, dh], v [B, H, Lk, dv]
 *
 * Stored probabilities, not flash-style recomputation: the forward keeps
 * P = softmax(q·kᵀ·scale), [B·H, Lq, Lk], for the backward. For a small ViT
 * (L ≈ 65 tokens, B·H ≈ 600) P is ~10 MB, less than the activations around
 * it, and storing it lets both passes run on the register-blocked batched
 * matmul (kernels/matmul.wgsl, the fastest kernel this project has) with
 * only the row softmax (kernels/attention.wgsl) in between. Recomputation
 * would add one q·kᵀ product to the backward to save memory that is not
 * scarce at these sizes. The Mix Block, whose L is up to 256 and whose
 * output is one scalar per query, uses a fused kernel instead
 * (src/ops/mix-block-attention.ts, docs/kernels/mix-block-attention.md).
 *
 * Backward (dO the output gradient):
 *   dv = Pᵀ·dO,   dP = dO·vᵀ,   dS = scale·P⊙(dP − rowsum(P⊙dP)),
 *   dq = dS·k,    dk = dSᵀ·q.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, sameEngine } from './launch.js';
import { matmulRaw } from './matmul.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    attention: { attrs: Dims & { scale: number }; saved: [q: Tensor, k: Tensor, v: Tensor, prob: Tensor] };
  }
}

const WG = 64; // softmax rows per workgroup, see attention.wgsl

/** out = softmax(scale·x) along the last axis of x viewed as [rows, cols]. */
export function softmaxRowsRaw(x: Tensor, rows: number, cols: number, scale: number): Tensor {
  const out = x.engine.empty(x.shape);
  if (rows && cols) x.engine.run('attention', 'softmax_fwd', { bind: { x, out }, params: { rows, cols, scale }, workgroups: Math.ceil(rows / WG) });
  return out;
}

/** scale·P⊙(dP − rowsum(P⊙dP)): the gradient of the unscaled scores. */
export function softmaxRowsBackwardRaw(prob: Tensor, dprob: Tensor, rows: number, cols: number, scale: number): Tensor {
  const out = prob.engine.empty(prob.shape);
  if (rows && cols) {
    prob.engine.run('attention', 'softmax_bwd', { bind: { x: prob, dp: dprob, out }, params: { rows, cols, scale }, workgroups: Math.ceil(rows / WG) });
  }
  return out;
}

interface Dims {
  B: number;
  H: number;
  Lq: number;
  Lk: number;
  dh: number;
  dv: number;
}

function dims(q: Tensor, k: Tensor, v: Tensor): Dims {
  const bad = (why: string) =>
    new ShapeError(
      `attention: ${why}; got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} (want [B, H, Lq, dh], [B, H, Lk, dh], [B, H, Lk, dv])`,
    );
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw bad('q, k and v must be 4-D');
  const [B, H, Lq, dh] = q.shape as [number, number, number, number];
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[1] !== H || v.shape[1] !== H) throw bad('batch and head counts differ');
  if (k.shape[3] !== dh) throw bad('q and k head sizes differ');
  if (v.shape[2] !== k.shape[2]) throw bad('k and v lengths differ');
  return { B, H, Lq, Lk: k.shape[2]!, dh, dv: v.shape[3]! };
}

/** softmax(q·kᵀ·scale)·v over the last two axes, per batch and head; scale defaults to 1/√dh. */
export function attention(q: Tensor, k: Tensor, v: Tensor, scale?: number): Tensor {
  assertF32('attention', q, k, v);
  const e = sameEngine('attention', q, k, v);
  const d = dims(q, k, v);
  const s = scale ?? 1 / Math.sqrt(d.dh);
  if (!Number.isFinite(s)) throw new ShapeError(`attention: scale must be finite, got ${s}`);
  const BH = d.B * d.H;
  const q3 = e._view(q, [BH, d.Lq, d.dh]);
  const k3 = e._view(k, [BH, d.Lk, d.dh]);
  const v3 = e._view(v, [BH, d.Lk, d.dv]);
  const scores = matmulRaw(q3, k3, { transB: true });
  const prob = softmaxRowsRaw(scores, BH * d.Lq, d.Lk, s);
  scores.dispose();
  const out = e._viewOwned(matmulRaw(prob, v3), [d.B, d.H, d.Lq, d.dv]);
  q3.dispose();
  k3.dispose();
  v3.dispose();
  record(out, 'attention', [q, k, v], [q, k, v, prob], { scale: s, ...d });
  prob.dispose(); // the tape holds its own reference when it needs P
  return out;
}

export function attentionBackward(node: GraphNode<'attention'>, g: Tensor): (Tensor | null)[] {
  const { scale, B, H, Lq, Lk, dh, dv } = node.attrs;
  const [q, k, v, prob] = node.saved;
  const e = g.engine;
  const BH = B * H;
  const g3 = e._view(g, [BH, Lq, dv]);
  let dq: Tensor | null = null;
  let dk: Tensor | null = null;
  let dvT: Tensor | null = null;
  if (v.requiresGrad) dvT = e._viewOwned(matmulRaw(prob, g3, { transA: true }), v.shape);
  if (q.requiresGrad || k.requiresGrad) {
    const v3 = e._view(v, [BH, Lk, dv]);
    const dprob = matmulRaw(g3, v3, { transB: true });
    v3.dispose();
    const dS = softmaxRowsBackwardRaw(prob, dprob, BH * Lq, Lk, scale);
    dprob.dispose();
    if (q.requiresGrad) {
      const k3 = e._view(k, [BH, Lk, dh]);
      dq = e._viewOwned(matmulRaw(dS, k3), q.shape);
      k3.dispose();
    }
    if (k.requiresGrad) {
      const q3 = e._view(q, [BH, Lq, dh]);
      dk = e._viewOwned(matmulRaw(dS, q3, { transA: true }), k.shape);
      q3.dispose();
    }
    dS.dispose();
  }
  g3.dispose();
  return [dq, dk, dvT];
}

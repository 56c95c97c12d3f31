/**
 * The AutoMix Mix Block's attention (docs/method.md §2.2 steps 1–6, kernels/mix_block_attention.wgsl):
 *
 *   s = softmax(Q·Kᵀ/√d)·v,  Q = W_q·z_a + b_q,  K = W_q·z_b + b_q,  v = w_v·z_b + b_v,  z_b = z[π]
 *
 * one mask logit per position of x's h×w grid. The trainer builds the mask
 * from it with upsample(s, r, 'nearest') and sigmoid.
 *
 * Forward: one packing dispatch (W_q and w_v into Wcat, the biases and λ
 * channel into per-row constants), one batched matmul for the projection
 * P[n] = Wcat·z[n] of every sample, then the attention, in one of two forms:
 *  - fused: one kernel computes scores, an online softmax and ·v and never
 *    stores the [N, L, L] scores; it saves only s and the row log-sum-exp, and
 *    its backward recomputes A from them (two more fused kernels);
 *  - unfused: Q, K, v are materialised, scores and A·v are batched matmuls
 *    around a row softmax, and A is stored for a matmul-based backward.
 * By default the fused form runs only for a forward without gradient at
 * L ≤ 64 (CIFAR's 8×8), where it measured faster on lavapipe; everywhere else
 * the matmul-based form was faster (docs/kernels/mix-block-attention.md).
 *
 * Backward (docs/method.md §2.3 steps 4–5) to W_q, b_q, w_v, b_v only: there is no
 * gradient to z (step 6), and asking for one throws.
 *   dU = A⊙ds_i(v_j − s_i)/√d,  dQ = dU·K,  dK = dUᵀ·Q,  dv = Aᵀ·ds;
 *   dP[n'] = dQ[n'] + Σ_{m: π[m] = n'} (dK[m]; dv[m])       (deterministic scatter)
 *   dWcat = Σ_n dP[n]·z[n]ᵀ (a batched matmul and a sum), then unpacked into
 *   dW_q, db_q, dw_v, db_v, with the λ column getting λ·ΣdQ + (1−λ)·ΣdK.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { softmaxRowsRaw } from './attention.js';
import { assertF32, groups, sameEngine } from './launch.js';
import { matmulRaw } from './matmul.js';
import { permCsr } from './blend.js';
import { sumToShape } from './reduce.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /** impl 'fused': [z, perm, P, consts, s, lse]; 'unfused': [z, perm, Q, K, v, A, s] */
    mixBlockLogits: {
      attrs: Attrs;
      saved:
        | [z: Tensor, perm: Tensor, P: Tensor, consts: Tensor, s: Tensor, lse: Tensor]
        | [z: Tensor, perm: Tensor, Q: Tensor, K: Tensor, v: Tensor, A: Tensor, s: Tensor];
    };
  }
}

export interface MixBlockOptions {
  /** When given, the λ channel is appended: λ on z_a, 1−λ on z_b, so C' = C+1. */
  lam?: number;
  /**
   * Attention implementation. 'auto' (default): 'fused' when no gradient is
   * recorded (e.g. the detached Mask_bb pass) and L ≤ FUSED_MAX_L, else
   * 'unfused'. Measured on lavapipe (docs/kernels/mix-block-attention.md): the fused
   * forward is faster at L = 64 and slower at L = 256; the fused backward was
   * slower than the matmul-based one in every run (1.1–8.5×).
   */
  impl?: 'auto' | 'fused' | 'unfused';
}

/** Longest L for which 'auto' picks the fused forward (see MixBlockOptions.impl). */
export const FUSED_MAX_L = 64;

/** Queries (or keys) per thread in the fused kernels: TQ in mix_block_attention.wgsl. */
const TQ = 4;
const WG_1D = 64;

interface Attrs {
  N: number;
  C: number;
  Cp: number;
  d: number;
  L: number;
  lam: number;
  hasLam: boolean;
  scale: number;
  impl: 'fused' | 'unfused';
}

/** Workgroup width of the fused kernels: WG·TQ ≈ L, at least one 8-lane vector, at most 64. */
function fusedWg(L: number): number {
  return Math.min(64, Math.max(8, Math.ceil(Math.ceil(L / TQ) / 8) * 8));
}

function check(z: Tensor, perm: Tensor, wq: Tensor, bq: Tensor, wv: Tensor, bv: Tensor, o: MixBlockOptions): Attrs {
  assertF32('mixBlockLogits', z, wq, bq, wv, bv);
  sameEngine('mixBlockLogits', z, perm, wq, bq, wv, bv);
  const shapes = () =>
    `z ${fmtShape(z.shape)}, perm ${perm.dtype} ${fmtShape(perm.shape)}, wq ${fmtShape(wq.shape)}, bq ${fmtShape(bq.shape)}, wv ${fmtShape(wv.shape)}, bv ${fmtShape(bv.shape)}`;
  if (z.ndim !== 4) throw new ShapeError(`mixBlockLogits: z must be [N, C, h, w]; got ${shapes()}`);
  const [N, C, h, w] = z.shape as [number, number, number, number];
  const hasLam = o.lam !== undefined;
  const Cp = C + (hasLam ? 1 : 0);
  if (perm.dtype !== 'i32' || perm.ndim !== 1 || perm.shape[0] !== N) throw new ShapeError(`mixBlockLogits: perm must be i32 [${N}]; got ${shapes()}`);
  if (wq.ndim !== 2 || wq.shape[1] !== Cp) {
    throw new ShapeError(`mixBlockLogits: wq must be [d, ${Cp}] (C' = C${hasLam ? ' + 1 with the λ channel' : ''}); got ${shapes()}`);
  }
  const d = wq.shape[0]!;
  if (bq.ndim !== 1 || bq.shape[0] !== d) throw new ShapeError(`mixBlockLogits: bq must be [${d}]; got ${shapes()}`);
  if (wv.ndim !== 2 || wv.shape[0] !== 1 || wv.shape[1] !== Cp) throw new ShapeError(`mixBlockLogits: wv must be [1, ${Cp}]; got ${shapes()}`);
  if (bv.ndim !== 1 || bv.shape[0] !== 1) throw new ShapeError(`mixBlockLogits: bv must be [1]; got ${shapes()}`);
  if (N === 0 || C === 0 || h * w === 0 || d === 0) throw new ShapeError(`mixBlockLogits: empty dimension; got ${shapes()}`);
  if (hasLam && !Number.isFinite(o.lam)) throw new ShapeError(`mixBlockLogits: λ must be finite, got ${o.lam}`);
  if (z.requiresGrad && z.engine.gradEnabled) {
    throw new ShapeError('mixBlockLogits: z requires grad, but the Mix Block passes no gradient to its input features (docs/method.md §2.3 step 6); detach z');
  }
  const recording = z.engine.gradEnabled && [wq, bq, wv, bv].some((t) => t.requiresGrad);
  const L = h * w;
  const impl = o.impl === undefined || o.impl === 'auto' ? (!recording && L <= FUSED_MAX_L ? 'fused' : 'unfused') : o.impl;
  return { N, C, Cp, d, L, lam: o.lam ?? 0, hasLam, scale: 1 / Math.sqrt(d), impl };
}

function baseParams(a: Attrs): Record<string, number> {
  return { N: a.N, C: a.C, Cp: a.Cp, d: a.d, L: a.L, has_lam: a.hasLam ? 1 : 0, lam: a.lam, scale: a.scale };
}

/** Wcat [d+1, C] and consts [cq (d), ck (d), cv]: see mix_block_attention.wgsl. */
function pack(wq: Tensor, bq: Tensor, wv: Tensor, bv: Tensor, a: Attrs): [Tensor, Tensor] {
  const e = wq.engine;
  const wcat = e.empty([a.d + 1, a.C]);
  const consts = e.empty([2 * a.d + 1]);
  const total = (a.d + 1) * a.C + 2 * a.d + 1;
  e.run('mix_block_attention', 'mb_pack', {
    bind: { wq, bq, wv, bv, out: wcat, out2: consts },
    params: { ...baseParams(a), total },
    constants: { WG: WG_1D },
    workgroups: groups(total, WG_1D),
  });
  return [wcat, consts];
}

/** P[n] = Wcat·z[n]: [N, d+1, L]. */
function project(z: Tensor, wcat: Tensor, a: Attrs): Tensor {
  const z3 = z.engine._view(z, [a.N, a.C, a.L]);
  const P = matmulRaw(wcat, z3);
  z3.dispose();
  return P;
}

/** Mask logits s [N, 1, h, w] of x's positions attending over the partner's (docs/method.md §2.2). */
export function mixBlockLogits(z: Tensor, perm: Tensor, wq: Tensor, bq: Tensor, wv: Tensor, bv: Tensor, o: MixBlockOptions = {}): Tensor {
  const a = check(z, perm, wq, bq, wv, bv, o);
  const e = z.engine;
  const [wcat, consts] = pack(wq, bq, wv, bv, a);
  const P = project(z, wcat, a);
  wcat.dispose();
  const outShape = [a.N, 1, z.shape[2]!, z.shape[3]!];
  const inputs = [z, perm, wq, bq, wv, bv];
  if (a.impl === 'fused') {
    const s = e.empty(outShape);
    const lse = e.empty([a.N, a.L]);
    const wg = fusedWg(a.L);
    e.run('mix_block_attention', 'mb_attn_fwd', {
      bind: { proj: P, perm, consts, out: s, out2: lse },
      params: baseParams(a),
      constants: { WG: wg },
      workgroups: [Math.ceil(a.L / (wg * TQ)), a.N],
    });
    record(s, 'mixBlockLogits', inputs, [z, perm, P, consts, s, lse], a);
    for (const t of [P, consts, lse]) t.dispose(); // the tape holds its own references
    return s;
  }
  const [Q, K, v] = buildQkv(P, perm, consts, a);
  P.dispose();
  consts.dispose();
  const scores = matmulRaw(Q, K, { transA: true });
  const A = softmaxRowsRaw(scores, a.N * a.L, a.L, a.scale);
  scores.dispose();
  const v3 = e._view(v, [a.N, a.L, 1]);
  const s = e._viewOwned(matmulRaw(A, v3), outShape);
  v3.dispose();
  record(s, 'mixBlockLogits', inputs, [z, perm, Q, K, v, A, s], a);
  for (const t of [Q, K, v, A]) t.dispose();
  return s;
}

function buildQkv(P: Tensor, perm: Tensor, consts: Tensor, a: Attrs): [Tensor, Tensor, Tensor] {
  const e = P.engine;
  const Q = e.empty([a.N, a.d, a.L]);
  const K = e.empty([a.N, a.d, a.L]);
  const v = e.empty([a.N, a.L]);
  const total = a.N * (a.d + 1) * a.L;
  e.run('mix_block_attention', 'mb_build_qkv', {
    bind: { proj: P, perm, consts, out: Q, out2: K, out3: v },
    params: { ...baseParams(a), total },
    constants: { WG: WG_1D },
    workgroups: groups(total, WG_1D),
  });
  return [Q, K, v];
}

export function mixBlockLogitsBackward(node: GraphNode<'mixBlockLogits'>, g: Tensor): (Tensor | null)[] {
  const a = node.attrs;
  const [, , wq, bq, wv, bv] = node.inputs as Tensor[];
  const e = g.engine;
  const saved = node.saved;
  const [z, perm] = saved;
  let dq: Tensor;
  let dk: Tensor;
  let dv: Tensor;
  // Six saved tensors exactly when a.impl is 'fused' (see mixBlockLogits).
  if (saved.length === 6) {
    const [, , P, consts, s, lse] = saved;
    dq = e.empty([a.N, a.d, a.L]);
    dk = e.empty([a.N, a.d, a.L]);
    dv = e.empty([a.N, a.L]);
    const wg = fusedWg(a.L);
    const common = { proj: P, perm, consts, ds: g, s_fwd: s, lse };
    const grid = [Math.ceil(a.L / (wg * TQ)), a.N] as const;
    e.run('mix_block_attention', 'mb_attn_bwd_q', { bind: { ...common, out: dq }, params: baseParams(a), constants: { WG: wg }, workgroups: grid });
    e.run('mix_block_attention', 'mb_attn_bwd_k', { bind: { ...common, out: dk, out2: dv }, params: baseParams(a), constants: { WG: wg }, workgroups: grid });
  } else {
    const [, , Q, K, v, A, s] = saved;
    const dU = e.empty([a.N, a.L, a.L]);
    const total = a.N * a.L * a.L;
    e.run('mix_block_attention', 'mb_dscores', {
      bind: { proj: A, ds: g, s_fwd: s, gv: v, out: dU },
      params: { ...baseParams(a), total },
      constants: { WG: WG_1D },
      workgroups: groups(total, WG_1D),
    });
    dq = matmulRaw(K, dU, { transB: true });
    dk = matmulRaw(Q, dU);
    dU.dispose();
    const g3 = e._view(g, [a.N, a.L, 1]);
    dv = matmulRaw(A!, g3, { transA: true });
    g3.dispose();
  }
  const grads = paramGrads(z, perm, dq, dk, dv, a);
  for (const t of [dq, dk, dv]) t.dispose();
  const want = [wq, bq, wv, bv].map((t) => t!.requiresGrad);
  grads.forEach((t, i) => {
    if (!want[i]) t.dispose();
  });
  return [null, null, ...grads.map((t, i) => (want[i] ? t : null))];
}

/** dW_q, db_q, dw_v, db_v from the attention's dQ, dK [N, d, L] and dv [N, L]. */
function paramGrads(z: Tensor, perm: Tensor, dq: Tensor, dk: Tensor, dv: Tensor, a: Attrs): Tensor[] {
  const e = z.engine;
  const csr = permCsr(perm, a.N);
  const dP = e.empty([a.N, a.d + 1, a.L]);
  const total = dP.size;
  e.run('mix_block_attention', 'mb_combine', {
    bind: { csr, gq: dq, gk: dk, gv: dv, out: dP },
    params: { ...baseParams(a), total },
    constants: { WG: WG_1D },
    workgroups: groups(total, WG_1D),
  });
  csr.dispose();
  const z3 = e._view(z, [a.N, a.C, a.L]);
  const dWn = matmulRaw(dP, z3, { transB: true });
  z3.dispose();
  const dW = sumToShape(dWn, [a.d + 1, a.C]);
  dWn.dispose();
  const tot = e._viewOwned(sumToShape(dP, [1, a.d + 1, 1]), [a.d + 1]);
  dP.dispose();
  const sq = a.hasLam ? sumToShape(dq, [1, a.d, 1]) : null;
  const dwq = e.empty([a.d, a.Cp]);
  const dbq = e.empty([a.d]);
  const tail = e.empty([a.Cp + 1]);
  const n = (a.d + 1) * (a.Cp + 1);
  e.run('mix_block_attention', 'mb_unpack', {
    bind: { proj: dW, gq: tot, gk: sq ?? e.placeholder(), out: dwq, out2: dbq, out3: tail },
    params: { ...baseParams(a), total: n },
    constants: { WG: WG_1D },
    workgroups: groups(n, WG_1D),
  });
  for (const t of [dW, tot, sq]) t?.dispose();
  const dwv = e.empty([1, a.Cp]);
  const dbv = e.empty([1]);
  e.copyBuffer(tail, dwv, a.Cp * 4);
  e.copyBuffer(tail, dbv, 4, a.Cp * 4, 0);
  tail.dispose();
  return [dwq, dbq, dwv, dbv];
}

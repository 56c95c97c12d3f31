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
 * P[n] = Wcat·z[n] of every sample, then the attention in one of three forms
 * (src/ops/mix-block-attention-plan.ts): 'unfused' (Q, K, v materialised,
 * scores and A·v as batched matmuls around a row softmax, A stored), 'fused'
 * (one kernel, online softmax, saves s and the row log-sum-exp; the CPU
 * adapters' kernels) and 'tiled' (the same with workgroup-memory tiles, for
 * GPUs). Which one runs, with which tile, is the autotuner's choice
 * (MIX_BLOCK_TUNING, src/ops/mix-block-attention-tuning.ts): without a
 * measurement, 'fused' for a forward without gradient at L ≤ 64, else
 * 'unfused' (docs/kernels/mix-block-attention.md). The forward records the
 * configuration; its backward runs the same one.
 *
 * Backward (docs/method.md §2.3 steps 4–5) to W_q, b_q, w_v, b_v only: there is no
 * gradient to z (step 6), and asking for one throws.
 *   dU = A⊙ds_i(v_j − s_i)/√d,  dQ = dU·K,  dK = dUᵀ·Q,  dv = Aᵀ·ds;
 *   dP[n'] = dQ[n'] + Σ_{m: π[m] = n'} (dK[m]; dv[m])       (mb_combine: deterministic gather)
 *   dWcat = Σ_n dP[n]·z[n]ᵀ (a batched matmul, summed over n by mb_unpack), then
 *   unpacked into dW_q, db_q, dw_v, db_v, with the λ column getting λ·ΣdQ + (1−λ)·ΣdK
 *   (mb_combine's row sums of dP and dQ).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { tunerOf } from '../tune/tuner.js';
import type { ChoiceSource, TuneConfig } from '../tune/types.js';
import { runDispatchList } from './dispatch-list.js';
import { assertF32, groups, sameEngine } from './launch.js';
import { matmulRaw } from './matmul.js';
import { attentionPlan, fusedWg, type MbBuffer } from './mix-block-attention-plan.js';
import { MIX_BLOCK_TUNING, type MixBlockProblem } from './mix-block-attention-tuning.js';

export { FUSED_MAX_L } from './mix-block-attention-tuning.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /** 'fused' and 'tiled': [z, perm, P, consts, s, lse]; 'unfused': [z, perm, Q, K, v, A, s] */
    mixBlockLogits: {
      attrs: Attrs;
      saved:
        | [z: Tensor, perm: Tensor, P: Tensor, consts: Tensor, s: Tensor, lse: Tensor]
        | [z: Tensor, perm: Tensor, Q: Tensor, K: Tensor, v: Tensor, A: Tensor, s: Tensor];
      inputs: [z: Tensor, perm: Tensor, wq: Tensor, bq: Tensor, wv: Tensor, bv: Tensor];
    };
  }
}

export interface MixBlockOptions {
  /** When given, the λ channel is appended: λ on z_a, 1−λ on z_b, so C' = C+1. */
  lam?: number;
  /**
   * Attention implementation. 'auto' (default): the autotuner's choice
   * (static rule: 'fused' when no gradient is recorded, e.g. the detached
   * Mask_bb pass, and L ≤ FUSED_MAX_L, else 'unfused'). Or a form:
   * 'fused' (the CPU adapters' kernels at their default width), 'tiled' (the
   * GPU kernels, the first tile that fits) or 'unfused'.
   */
  impl?: 'auto' | 'fused' | 'tiled' | 'unfused';
}

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
  /** The attention configuration the forward ran (its backward runs the same). */
  config: TuneConfig;
}

/** The configuration for an explicit `impl`, or the tuner's. */
function chooseConfig(e: Engine, p: MixBlockProblem, impl: NonNullable<MixBlockOptions['impl']>): TuneConfig {
  switch (impl) {
    case 'auto':
      return tunerOf(e).choose(MIX_BLOCK_TUNING, p).config;
    case 'unfused':
      return { variant: 'unfused', constants: {} };
    case 'fused':
      return { variant: 'fused', constants: { WG: fusedWg(p.L) } };
    case 'tiled': {
      const cfg = MIX_BLOCK_TUNING.candidates(e, p).find((c) => c.variant === 'tiled');
      if (!cfg) throw new ShapeError(`mixBlockLogits: no tile of the 'tiled' attention fits this adapter for N = ${p.N}, d = ${p.d}, L = ${p.L}`);
      return cfg;
    }
    default:
      throw new ShapeError(`mixBlockLogits: impl must be 'auto', 'fused', 'tiled' or 'unfused', got '${String(impl)}'`);
  }
}

/**
 * Which attention configuration `mixBlockLogits(z, ·, wq, …, { lam })` with
 * `impl: 'auto'` would run now, and why (bench, tests): `training` says
 * whether a gradient is recorded.
 */
export function mixBlockChoice(z: Tensor, wq: Tensor, o: { lam?: number; training: boolean }): { config: TuneConfig; source: ChoiceSource; name: string } {
  const [N, C, h, w] = z.shape as [number, number, number, number];
  const p: MixBlockProblem = { N, C, d: wq.shape[0]!, L: h * w, lam: o.lam !== undefined, training: o.training };
  const c = tunerOf(z.engine).choose(MIX_BLOCK_TUNING, p);
  return { ...c, name: MIX_BLOCK_TUNING.describe(c.config) };
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
  const training = z.engine.gradEnabled && [wq, bq, wv, bv].some((t) => t.requiresGrad);
  const L = h * w;
  const config = chooseConfig(z.engine, { N, C, d, L, lam: hasLam, training }, o.impl ?? 'auto');
  return { N, C, Cp, d, L, lam: o.lam ?? 0, hasLam, scale: 1 / Math.sqrt(d), config };
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
  const s = e.empty([a.N, 1, z.shape[2]!, z.shape[3]!]);
  const plan = attentionPlan(a, a.config);
  const bufs: Partial<Record<MbBuffer, Tensor>> = { proj: P, perm, consts, s };
  const made = runDispatchList(e, plan.forward, bufs, plan.sizes, 'mixBlockLogits');
  const inputs: [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor] = [z, perm, wq, bq, wv, bv];
  if (a.config.variant === 'unfused') {
    const { Q, K, v, A } = bufs as Record<MbBuffer, Tensor>;
    record(s, 'mixBlockLogits', inputs, [z, perm, Q, K, v, A, s], a);
  } else {
    record(s, 'mixBlockLogits', inputs, [z, perm, P, consts, s, bufs.lse!], a);
  }
  for (const t of [P, consts, ...made]) t.dispose(); // the tape holds its own references
  return s;
}

export function mixBlockLogitsBackward(node: GraphNode<'mixBlockLogits'>, g: Tensor): (Tensor | null)[] {
  const a = node.attrs;
  const [, , wq, bq, wv, bv] = node.inputs;
  const e = g.engine;
  const saved = node.saved;
  const [z, perm] = saved;
  const bufs: Partial<Record<MbBuffer, Tensor>> = { perm, ds: g };
  // Six saved tensors exactly when the forward was fused or tiled (see mixBlockLogits).
  if (saved.length === 6) {
    const [, , P, consts, s, lse] = saved;
    Object.assign(bufs, { proj: P, consts, s, lse });
  } else {
    const [, , Q, K, v, A, s] = saved;
    Object.assign(bufs, { Q, K, v, A, s });
  }
  const plan = attentionPlan(a, a.config);
  const made = runDispatchList(e, plan.backward, bufs, plan.sizes, 'mixBlockLogits');
  const grads = paramGrads(z, bufs.dP!, bufs.rows!, a);
  for (const t of made) t.dispose();
  const want = [wq, bq, wv, bv].map((t) => t!.requiresGrad);
  grads.forEach((t, i) => {
    if (!want[i]) t.dispose();
  });
  return [null, null, ...grads.map((t, i) => (want[i] ? t : null))];
}

/** dW_q, db_q, dw_v, db_v from dP [N, d+1, L] and its row sums [N, 2d+1] (mb_combine). */
function paramGrads(z: Tensor, dP: Tensor, rows: Tensor, a: Attrs): Tensor[] {
  const e = z.engine;
  const z3 = e._view(z, [a.N, a.C, a.L]);
  const dP3 = e._view(dP, [a.N, a.d + 1, a.L]);
  const dWn = matmulRaw(dP3, z3, { transB: true });
  z3.dispose();
  dP3.dispose();
  const dwq = e.empty([a.d, a.Cp]);
  const dbq = e.empty([a.d]);
  const tail = e.empty([a.Cp + 1]);
  const n = (a.d + 1) * (a.Cp + 1);
  e.run('mix_block_attention', 'mb_unpack', {
    bind: { proj: dWn, gq: rows, out: dwq, out2: dbq, out3: tail },
    params: { ...baseParams(a), total: n },
    constants: { WG: WG_1D },
    workgroups: groups(n, WG_1D),
  });
  dWn.dispose();
  const dwv = e.empty([1, a.Cp]);
  const dbv = e.empty([1]);
  e.copyBuffer(tail, dwv, a.Cp * 4);
  e.copyBuffer(tail, dbv, 4, a.Cp * 4, 0);
  tail.dispose();
  return [dwq, dbq, dwv, dbv];
}

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
 * `attentionTokens` (below) is the same function on the token-major layout
 * [N, L, H, d] a Linear produces, without head permutes, in one of the forms of
 * src/ops/attention-plan.ts (the unfused path here between one head split and
 * one merge copy, or kernels/attention_fused.wgsl's fused kernels); the ViT uses it.
 *
 * Backward (dO the output gradient):
 *   dv = Pᵀ·dO,   dP = dO·vᵀ,   dS = scale·P⊙(dP − rowsum(P⊙dP)),
 *   dq = dS·k,    dk = dSᵀ·q.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { tunerOf } from '../tune/tuner.js';
import type { ChoiceSource, TuneConfig } from '../tune/types.js';
import { type AttnBuffer, type AttnShape, attnPlan, fusedConfig, fusedWg, TILED_TILES, tiledConfig } from './attention-plan.js';
import { ATTENTION_TUNING, type AttentionProblem } from './attention-tuning.js';
import { runDispatchList } from './dispatch-list.js';
import { assertF32, sameEngine } from './launch.js';
import { matmulRaw } from './matmul.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /**
     * Both layouts record as 'attention' (one rule): 'heads' (`attention`) saves [q, k, v, P];
     * 'tokens' (`attentionTokens`) saves its plan's `saved` buffers, in that order.
     */
    attention: {
      attrs: (Dims & { scale: number; layout: 'heads' }) | (AttnShape & { scale: number; layout: 'tokens'; config: TuneConfig });
      saved: [q: Tensor, k: Tensor, v: Tensor, prob: Tensor] | [Tensor, Tensor, Tensor, Tensor, Tensor];
    };
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
  record(out, 'attention', [q, k, v], [q, k, v, prob], { scale: s, layout: 'heads', ...d });
  prob.dispose(); // the tape holds its own reference when it needs P
  return out;
}

export function attentionBackward(node: GraphNode<'attention'>, g: Tensor): (Tensor | null)[] {
  if (node.attrs.layout === 'tokens') return attentionTokensBackward(node, node.attrs, g);
  const { scale, B, H, Lq, Lk, dh, dv } = node.attrs;
  const [q, k, v, prob] = node.saved as [Tensor, Tensor, Tensor, Tensor];
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

// ---- token-major layout --------------------------------------------------

export interface AttentionTokensOptions {
  /** Multiplies the scores; default 1/√dh. */
  scale?: number;
  /**
   * 'auto' (default): the autotuner's choice (ATTENTION_TUNING; its static
   * rule in src/ops/attention-tuning.ts). Or a form: 'unfused' (the head-major
   * matmuls and softmax between one head split and one merge dispatch),
   * 'fused' (attention_fused.wgsl's CPU kernels at their default width) or
   * 'tiled' (its workgroup-memory kernels, the first tile that fits).
   */
  impl?: 'auto' | 'unfused' | 'fused' | 'tiled';
}

function tokenDims(q: Tensor, k: Tensor, v: Tensor): AttnShape {
  const bad = (why: string) =>
    new ShapeError(
      `attentionTokens: ${why}; got q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} (want [N, Lq, H, dh], [N, Lk, H, dh], [N, Lk, H, dv])`,
    );
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw bad('q, k and v must be 4-D');
  const [N, Lq, H, dh] = q.shape as [number, number, number, number];
  if (k.shape[0] !== N || v.shape[0] !== N || k.shape[2] !== H || v.shape[2] !== H) throw bad('batch and head counts differ');
  if (k.shape[3] !== dh) throw bad('q and k head sizes differ');
  if (v.shape[1] !== k.shape[1]) throw bad('k and v lengths differ');
  const s = { N, H, Lq, Lk: k.shape[1]!, dh, dv: v.shape[3]! };
  if (Object.values(s).some((x) => x === 0)) throw bad('empty dimension');
  return s;
}

function chooseTokensConfig(e: Engine, p: AttentionProblem, impl: NonNullable<AttentionTokensOptions['impl']>): TuneConfig {
  switch (impl) {
    case 'auto':
      return tunerOf(e).choose(ATTENTION_TUNING, p).config;
    case 'unfused':
      return { variant: 'unfused', constants: {} };
    case 'fused': {
      const cfg = fusedConfig(fusedWg(p));
      if (!ATTENTION_TUNING.valid(e, p, cfg))
        throw new ShapeError(`attentionTokens: the 'fused' form cannot run dh = ${p.dh}, dv = ${p.dv}, N·H = ${p.N * p.H} here`);
      return cfg;
    }
    case 'tiled': {
      const cfg = TILED_TILES.map(tiledConfig).find((c) => ATTENTION_TUNING.valid(e, p, c));
      if (!cfg) throw new ShapeError(`attentionTokens: no tile of the 'tiled' form fits this adapter for dh = ${p.dh}, dv = ${p.dv}`);
      return cfg;
    }
    default:
      throw new ShapeError(`attentionTokens: impl must be 'auto', 'unfused', 'fused' or 'tiled', got '${String(impl)}'`);
  }
}

/** Which configuration `attentionTokens(q, k, v)` with impl 'auto' would run now, and why (bench, tests). */
export function attentionTokensChoice(q: Tensor, k: Tensor, v: Tensor, training: boolean): { config: TuneConfig; source: ChoiceSource; name: string } {
  const c = tunerOf(q.engine).choose(ATTENTION_TUNING, { ...tokenDims(q, k, v), training });
  return { ...c, name: ATTENTION_TUNING.describe(c.config) };
}

/**
 * softmax(q·kᵀ·scale)·v per batch and head on the token-major layout:
 * q [N, Lq, H, dh], k [N, Lk, H, dh], v [N, Lk, H, dv] → [N, Lq, H, dv]
 * (a Linear's [N, L, H·d] output reshaped, no copy). The same function as
 * permute → `attention` → permute, without the permutes; which form runs is
 * the autotuner's choice (src/ops/attention-tuning.ts, docs/kernels/attention.md).
 */
export function attentionTokens(q: Tensor, k: Tensor, v: Tensor, o: AttentionTokensOptions = {}): Tensor {
  assertF32('attentionTokens', q, k, v);
  const e = sameEngine('attentionTokens', q, k, v);
  const d = tokenDims(q, k, v);
  const s = o.scale ?? 1 / Math.sqrt(d.dh);
  if (!Number.isFinite(s)) throw new ShapeError(`attentionTokens: scale must be finite, got ${s}`);
  const training = e.gradEnabled && [q, k, v].some((t) => t.requiresGrad);
  const config = chooseTokensConfig(e, { ...d, training }, o.impl ?? 'auto');
  const plan = attnPlan(d, s, config);
  const out = e.empty([d.N, d.Lq, d.H, d.dv]);
  const bufs: Partial<Record<AttnBuffer, Tensor>> = { q, k, v, out };
  const made = runDispatchList(e, plan.forward, bufs, plan.sizes, 'attentionTokens');
  record(out, 'attention', [q, k, v], plan.saved.map((b) => bufs[b]!) as [Tensor, Tensor, Tensor, Tensor] | [Tensor, Tensor, Tensor, Tensor, Tensor], {
    ...d,
    scale: s,
    layout: 'tokens',
    config,
  });
  for (const t of made) t.dispose(); // the tape holds its own references
  return out;
}

function attentionTokensBackward(node: GraphNode<'attention'>, a: AttnShape & { scale: number; config: TuneConfig }, g: Tensor): (Tensor | null)[] {
  const e = g.engine;
  const [q, k, v] = node.inputs as [Tensor, Tensor, Tensor];
  const plan = attnPlan(a, a.scale, a.config);
  const bufs: Partial<Record<AttnBuffer, Tensor>> = { g };
  plan.saved.forEach((b, i) => {
    bufs[b] = node.saved[i]!;
  });
  const grads = { dq: e.empty(q.shape), dk: e.empty(k.shape), dv: e.empty(v.shape) };
  Object.assign(bufs, grads);
  const made = runDispatchList(e, plan.backward, bufs, plan.sizes, 'attentionTokens');
  for (const t of made) t.dispose();
  return [q, k, v].map((t, i) => {
    const grad = [grads.dq, grads.dk, grads.dv][i]!;
    if (t.requiresGrad) return grad;
    grad.dispose();
    return null;
  });
}

/**
 * Patch embedding (kernels/patch_embed.wgsl): non-overlapping P×P patches of
 * x [N, C, H, W] projected to D channels with weight [D, C, P, P] (PyTorch
 * Conv2d layout) and bias [D], giving tokens [N, L, D], L = (H/P)·(W/P).
 * Forward and the three gradients are GEMMs on k-major, vec4-padded operands.
 * In the fused kernel forms the weight's and the bias's gradients are added in
 * place to the `.grad` of a parameter that has one, by the kernels that
 * compute them (src/autograd/leaf-grad.ts; no separate acc_add).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { gradTarget } from '../autograd/leaf-grad.js';
import { ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { kernelForms } from './kernel-forms.js';
import { fillWith } from './creation.js';
import { assertF32, sameEngine } from './launch.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    patchEmbed: { attrs: { patch: number; xShape: readonly number[]; wShape: readonly number[] }; saved: [x: Tensor, w: Tensor] };
  }
}

const WG = 64;
const pad = (n: number, m: number) => Math.ceil(n / m) * m;

interface PatchShape {
  N: number;
  C: number;
  H: number;
  W: number;
  D: number;
  P: number;
  L: number;
  T: number;
  K: number;
}

function patchShape(x: readonly number[], w: readonly number[], patch: number): PatchShape {
  if (!Number.isInteger(patch) || patch < 1) throw new ShapeError(`patchEmbed: patch size must be a positive integer, got ${patch}`);
  if (x.length !== 4) throw new ShapeError(`patchEmbed: input must be 4-D [N, C, H, W], got ${fmtShape(x)}`);
  const [N, C, H, W] = x as [number, number, number, number];
  if (H % patch !== 0 || W % patch !== 0) {
    throw new ShapeError(`patchEmbed: input ${fmtShape(x)} has H=${H}, W=${W}, not divisible by the patch size ${patch}`);
  }
  if (w.length !== 4 || w[1] !== C || w[2] !== patch || w[3] !== patch) {
    throw new ShapeError(`patchEmbed: weight must have shape [D, ${C}, ${patch}, ${patch}] for input ${fmtShape(x)} and patch ${patch}, got ${fmtShape(w)}`);
  }
  const D = w[0]!;
  const L = (H / patch) * (W / patch);
  return { N, C, H, W, D, P: patch, L, T: N * L, K: C * patch * patch };
}

/** Patches of x as [T, width] (trans=false) or [K, width] (trans=true), zero-padded. */
function patchify(engine: Engine, x: Tensor, s: PatchShape, trans: boolean, width: number): Tensor {
  const rows = trans ? s.K : s.T;
  const total = rows * width;
  const out = engine.empty([rows, width], 'f32', 'patch.patches');
  if (total) {
    engine.run('patch_embed', 'patchify', {
      bind: { src: x, dst: out },
      params: { N: s.N, C: s.C, H: s.H, W: s.W, P: s.P, cols: width, total },
      constants: { TRANS: trans ? 1 : 0 },
      workgroups: Math.ceil(total / WG),
    });
  }
  return out;
}

/** src viewed as [rows, cols] → [rows, width] (trans=false) or [cols, width] (trans=true), zero-padded. */
function relayout(engine: Engine, src: Tensor, rows: number, cols: number, trans: boolean, width: number): Tensor {
  const outRows = trans ? cols : rows;
  const total = outRows * width;
  const out = engine.empty([outRows, width], 'f32', 'patch.relayout');
  if (total) {
    engine.run('patch_embed', 'relayout', {
      bind: { src, dst: out },
      params: { rows, cols, M4: width, total },
      constants: { TRANS: trans ? 1 : 0 },
      workgroups: Math.ceil(total / WG),
    });
  }
  return out;
}

function gemm(
  engine: Engine,
  entry: string,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  d: { M: number; Nc: number; K: number; M4: number; N8: number },
  s: PatchShape,
  bias: Tensor | null = null,
  accumulate = false,
): void {
  const total = (d.M4 / 4) * (d.N8 / 8);
  if (total === 0 || out.size === 0) return;
  if (d.K === 0) {
    if (bias) throw new ShapeError('patchEmbed: empty reduction with a bias is not supported');
    if (accumulate) throw new ShapeError('patchEmbed: an empty reduction is not accumulated in place');
    fillWith(out, 0);
    return;
  }
  engine.run('patch_embed', entry, {
    bind: { a4: a, b4: b, bias: bias ?? engine.placeholder(), dst: out },
    params: { ...d, N: s.N, C: s.C, H: s.H, W: s.W, P: s.P, total },
    constants: { HAS_BIAS: bias ? 1 : 0, ACCUMULATE: accumulate ? 1 : 0 },
    workgroups: Math.ceil(total / WG),
  });
}

export function patchEmbedForwardRaw(x: Tensor, w: Tensor, bias: Tensor | null, patch: number): Tensor {
  assertF32('patchEmbed', x, w, ...(bias ? [bias] : []));
  const engine = sameEngine('patchEmbed', x, w, ...(bias ? [bias] : []));
  const s = patchShape(x.shape, w.shape, patch);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== s.D)) {
    throw new ShapeError(`patchEmbed: bias must have shape [${s.D}], got ${fmtShape(bias.shape)}`);
  }
  const out = engine.empty([s.N, s.L, s.D]);
  if (out.size === 0) return out;
  const T4 = pad(s.T, 4);
  const D8 = pad(s.D, 8);
  const a = patchify(engine, x, s, true, T4);
  const b = relayout(engine, w, s.D, s.K, true, D8);
  gemm(engine, 'patch_embed_fwd', a, b, out, { M: s.T, Nc: s.D, K: s.K, M4: T4, N8: D8 }, s, bias);
  a.dispose();
  b.dispose();
  return out;
}

export function patchEmbedGradInputRaw(dt: Tensor, w: Tensor, xShape: readonly number[], patch: number): Tensor {
  const engine = sameEngine('patchEmbed backward', dt, w);
  const s = patchShape(xShape, w.shape, patch);
  const dx = engine.empty([...xShape]);
  if (dx.size === 0) return dx;
  const T4 = pad(s.T, 4);
  const K8 = pad(s.K, 8);
  const a = relayout(engine, dt, s.T, s.D, true, T4);
  const b = relayout(engine, w, s.D, s.K, false, K8);
  gemm(engine, 'patch_embed_bwd_input', a, b, dx, { M: s.T, Nc: s.K, K: s.D, M4: T4, N8: K8 }, s);
  a.dispose();
  b.dispose();
  return dx;
}

/**
 * dw = Σ_t dt[t, ·]ᵀ · patches[t, ·]; with `into`, added to it in place
 * (the kernel's ACCUMULATE epilogue) and `into` returned. An empty batch
 * (no tokens) is not accumulated: the caller adds the zeros itself.
 */
export function patchEmbedGradWeightRaw(x: Tensor, dt: Tensor, wShape: readonly number[], patch: number, into: Tensor | null = null): Tensor {
  const engine = sameEngine('patchEmbed backward', x, dt);
  const s = patchShape(x.shape, wShape, patch);
  if (into && into.size !== s.D * s.K) throw new ShapeError(`patchEmbed backward: cannot accumulate dw ${fmtShape(wShape)} into ${fmtShape(into.shape)}`);
  const dw = into ?? engine.empty([...wShape]);
  if (dw.size === 0) return dw;
  const D4 = pad(s.D, 4);
  const K8 = pad(s.K, 8);
  const a = relayout(engine, dt, s.T, s.D, false, D4);
  const b = patchify(engine, x, s, false, K8);
  gemm(engine, 'patch_embed_bwd_weight', a, b, dw, { M: s.D, Nc: s.K, K: s.T, M4: D4, N8: K8 }, s, null, into !== null);
  a.dispose();
  b.dispose();
  return dw;
}

/** db = Σ_t dt[t, ·]; with `into`, added to it in place (ACCUMULATE) and `into` returned. */
export function patchEmbedGradBiasRaw(dt: Tensor, D: number, into: Tensor | null = null): Tensor {
  const T = dt.size / Math.max(D, 1);
  if (into && into.size !== D) throw new ShapeError(`patchEmbed backward: cannot accumulate db [${D}] into ${fmtShape(into.shape)}`);
  const db = into ?? dt.engine.empty([D]);
  if (D) {
    dt.engine.run('patch_embed', 'patch_embed_bwd_bias', {
      bind: { src: dt, dst: db },
      params: { D, T },
      constants: { ACCUMULATE: into ? 1 : 0 },
      workgroups: Math.ceil(D / WG),
    });
  }
  return db;
}

/**
 * Patch embedding: tokens [N, (H/P)(W/P), D] = conv2d(x, w, bias, stride=P)
 * flattened over space and moved channels-last. Throws ShapeError when H or W
 * is not divisible by the patch size.
 */
export function patchEmbed(x: Tensor, w: Tensor, bias: Tensor | null, patch: number): Tensor {
  const out = patchEmbedForwardRaw(x, w, bias, patch);
  return record(out, 'patchEmbed', [x, w, bias], [x, w], { patch, xShape: x.shape, wShape: w.shape });
}

export function patchEmbedBackward(node: GraphNode<'patchEmbed'>, g: Tensor): (Tensor | null)[] {
  const { patch, xShape, wShape } = node.attrs;
  const [x, w] = node.saved;
  const [xIn, wIn, bIn] = node.inputs;
  const inPlace = kernelForms(g.engine).fused;
  // In place (the parameter's .grad) unless there are no tokens to sum.
  // (Not when x is the weight too: its dx, returned, must be added first, as the autograd would.)
  const wInto = x.size > 0 && wIn !== xIn ? gradTarget(wIn, inPlace) : null;
  const bInto = gradTarget(bIn, inPlace);
  const dx = xIn?.requiresGrad ? patchEmbedGradInputRaw(g, w, xShape, patch) : null;
  let dw: Tensor | null = null;
  if (wIn?.requiresGrad) {
    dw = patchEmbedGradWeightRaw(x, g, wShape, patch, wInto);
    if (wInto) dw = null;
  }
  let db: Tensor | null = null;
  if (bIn?.requiresGrad) {
    db = patchEmbedGradBiasRaw(g, wShape[0]!, bInto);
    if (bInto) db = null;
  }
  return [dx, dw, db];
}

/**
 * Batch mixing ops (kernels/blend.wgsl): gatherBatch (x[π]), mixup (Mixup and
 * ManifoldMix), boxMix (CutMix), maskMix (FMix) and maskedBlend (the Mix
 * Block's x̃ = (1 − m_b)⊙x + m_b⊙x[π]). All five are one kernel,
 *
 *   out[n, c, s] = a(n, s)·x[n, c, s] + b(n, s)·x[π[n], c, s],
 *
 * with the coefficients picked by a MODE constant, and share one backward
 * rule (`blendBackward`). The scatter-add of the partner term's gradient is
 * done as a gather over an inverse-permutation list built on the GPU, so it
 * is deterministic and needs no readback of π.
 *
 * π is an i32 tensor of shape [N] with values in [0, N); values outside
 * contribute nothing (checking them would need a readback).
 *
 * Per-step values for captured-and-replayed steps: a replay re-issues each
 * recorded dispatch with its recorded uniform bytes, so nothing that changes
 * from step to step may live in the uniform Params. `mixup` takes λ and
 * `boxMix` the box either as numbers (put in Params, as before) or as tensors
 * the host rewrites once per step: λ a one-element f32 tensor, the box a
 * 4-element i32 tensor [y0, x0, y1, x1]. With a tensor the kernels (forward
 * and backward) read it from a binding (λ through `coef`, which mixup does not
 * use otherwise; the box through `box_in`), selected by the FROM_TENSOR
 * override, and Params holds 0 in its place, so the uniform bytes are the
 * same for every step. The two forms run the same arithmetic on the same f32
 * values: bit-for-bit equal results. The tensor is a constant to autograd (no
 * gradient flows to it); the graph node keeps its buffer alive in `saved`.
 *
 * The number forms are validated on the host (finite λ; an integer box inside
 * the image). Tensor values cannot be checked without a readback: only dtype
 * and size are. The kernel clamps the box, whatever its source, to y0, y1 ∈
 * [0, H] and x0, x1 ∈ [0, W] (y0 ≥ y1 or x0 ≥ x1: an empty box), so a bad box
 * tensor can never read or write out of bounds. A non-finite λ tensor gives
 * non-finite outputs, as it would in Params.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';
import { assertF32, flat, sameEngine, withFlat } from './launch.js';
import { sumToShape } from './reduce.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /**
     * The rule reads its tensors through node.inputs and attrs.step; `saved`
     * only keeps their buffers alive: [perm], then x and coef when coef is
     * given, then attrs.step when set.
     */
    blend: { attrs: BlendAttrs & { op: string }; saved: [perm: Tensor, ...alive: Tensor[]]; inputs: [x: Tensor, perm: Tensor, coef: Tensor | null] };
  }
}

/** Coefficient modes of kernels/blend.wgsl. */
export const BlendMode = { Gather: 0, Mixup: 1, Box: 2, SharedMask: 3, SampleMask: 4 } as const;
export type BlendMode = (typeof BlendMode)[keyof typeof BlendMode];

export interface Box {
  y0: number;
  x0: number;
  y1: number;
  x1: number;
}

interface BlendAttrs {
  mode: BlendMode;
  /** x viewed as [nx, C, S]; the output has `rows` rows. */
  nx: number;
  rows: number;
  C: number;
  S: number;
  W: number;
  /** λ and the box in Params; 0 when `step` supplies them. */
  lam: number;
  box: [number, number, number, number];
  /** λ (Mixup, f32, one element) or the box (Box, i32 [y0, x0, y1, x1]) as a tensor the kernels read; null: from Params. */
  step: Tensor | null;
}

function checkPerm(op: string, perm: Tensor, n?: number): void {
  if (perm.dtype !== 'i32' || perm.ndim !== 1) {
    throw new ShapeError(`${op}: perm must be a 1-D i32 tensor, got ${perm.dtype} ${fmtShape(perm.shape)}`);
  }
  if (n !== undefined && perm.shape[0] !== n) {
    throw new ShapeError(`${op}: perm ${fmtShape(perm.shape)} must have one entry per sample (batch ${n})`);
  }
}

function check4d(op: string, x: Tensor): [number, number, number, number] {
  if (x.ndim !== 4) throw new ShapeError(`${op}: x must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** A per-step value passed as a tensor: checks its dtype and element count (not its values). */
function checkStep(op: string, what: string, t: Tensor, dtype: 'f32' | 'i32', size: number, shape: string): void {
  if (t.dtype !== dtype || t.size !== size) {
    throw new ShapeError(`${op}: ${what} tensor must be ${dtype} ${shape} (${size} element${size === 1 ? '' : 's'}), got ${t.dtype} ${fmtShape(t.shape)}`);
  }
}

function params(a: BlendAttrs): Record<string, number | number[]> {
  return { rows: a.rows, nx: a.nx, C: a.C, S: a.S, W: a.W, lam: a.lam, box: a.box };
}

/** Bindings for the blend kernels' coefficient sources, and the override that picks λ/box's. */
function coefSources(
  e: Engine,
  a: BlendAttrs,
  coef: Tensor | null,
): { bind: { coef: Tensor | GPUBuffer; box_in: Tensor | GPUBuffer }; constants: Record<string, number> } {
  const lamT = a.mode === BlendMode.Mixup ? a.step : null;
  const boxT = a.mode === BlendMode.Box ? a.step : null;
  return {
    bind: { coef: coef ?? lamT ?? e.placeholder(), box_in: boxT ?? e.placeholder() },
    constants: { MODE: a.mode, FROM_TENSOR: a.step ? 1 : 0 },
  };
}

function blendRaw(x: Tensor, perm: Tensor, coef: Tensor | null, a: BlendAttrs, outShape: readonly number[]): Tensor {
  const e = x.engine;
  const out = e.empty(outShape);
  if (out.size === 0) return out;
  const src = coefSources(e, a, coef);
  e.run('blend', 'blend_fwd', {
    bind: { x, perm, ...src.bind, out },
    params: params(a),
    ...withFlat(e, out.size, src.constants),
  });
  return out;
}

/** The inverse of π as offsets + sources (see perm_csr in blend.wgsl). */
export function permCsr(perm: Tensor, nx: number): Tensor {
  const e = perm.engine;
  const csr = e.empty([nx + 1 + perm.size], 'i32');
  e.run('blend', 'perm_csr', { bind: { perm, csr_out: csr }, params: { rows: perm.size, nx }, workgroups: 1 });
  return csr;
}

function blend(op: string, x: Tensor, perm: Tensor, coef: Tensor | null, a: BlendAttrs, outShape: readonly number[]): Tensor {
  const out = blendRaw(x, perm, coef, a, outShape);
  // The rule reads its inputs through node.inputs (and the λ/box tensor
  // through attrs.step); `saved` keeps their buffers alive. x is needed only
  // for the coefficient's gradient.
  const saved: [Tensor, ...Tensor[]] = coef ? [perm, x, coef] : [perm];
  if (a.step) saved.push(a.step);
  return record(out, 'blend', [x, perm, coef], saved, { ...a, op });
}

export function blendBackward(node: GraphNode<'blend'>, g: Tensor): (Tensor | null)[] {
  const a = node.attrs;
  const [x, perm, coef] = node.inputs;
  const e = g.engine;
  let dx: Tensor | null = null;
  if (x.requiresGrad) {
    dx = e.empty(x.shape);
    if (dx.size) {
      const csr = permCsr(perm, a.nx);
      const src = coefSources(e, a, coef);
      e.run('blend', 'blend_bwd_x', {
        bind: { g, csr, ...src.bind, out: dx },
        params: params(a),
        ...withFlat(e, dx.size, src.constants),
      });
      csr.dispose();
    }
  }
  let dcoef: Tensor | null = null;
  if (coef?.requiresGrad) {
    // t[n, s] = Σ_c (x[π[n]] − x[n])·G: ∂L/∂m_b itself (SampleMask), or −Σ_n t (SharedMask).
    const t = e.empty([a.rows, a.S]);
    if (t.size) {
      e.run('blend', 'blend_bwd_coef', { bind: { x, perm, g, out: t }, params: params(a), ...flat(e, t.size) });
    }
    if (a.mode === BlendMode.SampleMask) dcoef = e._viewOwned(t, coef.shape);
    else {
      dcoef = e._viewOwned(sumToShape(t, [a.S], -1), coef.shape);
      t.dispose();
    }
  }
  return [dx, null, dcoef];
}

/** x[π] along dim 0 (π may be any length; the output has π.length rows). Backward: scatter-add. */
export function gatherBatch(x: Tensor, perm: Tensor): Tensor {
  assertF32('gatherBatch', x);
  sameEngine('gatherBatch', x, perm);
  checkPerm('gatherBatch', perm);
  if (x.ndim < 1) throw new ShapeError(`gatherBatch: x must have a batch dimension, got ${fmtShape(x.shape)}`);
  const nx = x.shape[0]!;
  const rows = perm.shape[0]!;
  const S = nx ? x.size / nx : 0;
  const attrs: BlendAttrs = { mode: BlendMode.Gather, nx, rows, C: 1, S, W: 1, lam: 0, box: [0, 0, 0, 0], step: null };
  return blend('gatherBatch', x, perm, null, attrs, [rows, ...x.shape.slice(1)]);
}

/** (1 − m_b)⊙x + m_b⊙x[π], m_b [N, 1, H, W] broadcast over channels; gradients to m_b and x. */
export function maskedBlend(x: Tensor, maskB: Tensor, perm: Tensor): Tensor {
  assertF32('maskedBlend', x, maskB);
  sameEngine('maskedBlend', x, maskB, perm);
  const [N, C, H, W] = check4d('maskedBlend', x);
  if (maskB.ndim !== 4 || maskB.shape[0] !== N || maskB.shape[1] !== 1 || maskB.shape[2] !== H || maskB.shape[3] !== W) {
    throw new ShapeError(`maskedBlend: maskB must be [${N}, 1, ${H}, ${W}] for x ${fmtShape(x.shape)}, got ${fmtShape(maskB.shape)}`);
  }
  checkPerm('maskedBlend', perm, N);
  const attrs: BlendAttrs = { mode: BlendMode.SampleMask, nx: N, rows: N, C, S: H * W, W, lam: 0, box: [0, 0, 0, 0], step: null };
  return blend('maskedBlend', x, perm, maskB, attrs, x.shape);
}

/**
 * λ·x + (1 − λ)·x[π] (Mixup; ManifoldMix on features): gradient flows to both
 * terms (not to a λ tensor). λ is a finite number, or a one-element f32 tensor
 * read by the kernels (a per-step value outside the uniform; see the header).
 */
export function mixup(x: Tensor, perm: Tensor, lam: number | Tensor): Tensor {
  assertF32('mixup', x);
  const step = typeof lam === 'number' ? null : lam;
  sameEngine('mixup', x, perm, ...(step ? [step] : []));
  if (x.ndim < 1) throw new ShapeError(`mixup: x must have a batch dimension, got ${fmtShape(x.shape)}`);
  const N = x.shape[0]!;
  checkPerm('mixup', perm, N);
  if (step) checkStep('mixup', 'λ', step, 'f32', 1, '[1]');
  else if (!Number.isFinite(lam)) throw new ShapeError(`mixup: λ must be finite, got ${lam}`);
  const attrs: BlendAttrs = {
    mode: BlendMode.Mixup,
    nx: N,
    rows: N,
    C: 1,
    S: N ? x.size / N : 0,
    W: 1,
    lam: step ? 0 : (lam as number),
    box: [0, 0, 0, 0],
    step,
  };
  return blend('mixup', x, perm, null, attrs, x.shape);
}

/**
 * CutMix: x with x[π] pasted inside rows [y0, y1) × columns [x0, x1) of every
 * image. The box is a Box (checked to lie inside the image), or a 4-element
 * i32 tensor [y0, x0, y1, x1] read by the kernels (a per-step value outside
 * the uniform; its values are not checked but clamped to the image by the
 * kernel, see the header).
 */
export function boxMix(x: Tensor, perm: Tensor, box: Box | Tensor): Tensor {
  assertF32('boxMix', x);
  const step = box instanceof Tensor ? box : null;
  sameEngine('boxMix', x, perm, ...(step ? [step] : []));
  const [N, C, H, W] = check4d('boxMix', x);
  checkPerm('boxMix', perm, N);
  let b: [number, number, number, number] = [0, 0, 0, 0];
  if (step) checkStep('boxMix', 'box', step, 'i32', 4, '[4] = [y0, x0, y1, x1]');
  else {
    const { y0, x0, y1, x1 } = box as Box;
    const ok = [y0, x0, y1, x1].every(Number.isInteger) && 0 <= y0 && y0 <= y1 && y1 <= H && 0 <= x0 && x0 <= x1 && x1 <= W;
    if (!ok) throw new ShapeError(`boxMix: box ${JSON.stringify(box)} is not an integer box inside the ${H}×${W} image (y0 ≤ y1, x0 ≤ x1)`);
    b = [y0, x0, y1, x1];
  }
  const attrs: BlendAttrs = { mode: BlendMode.Box, nx: N, rows: N, C, S: H * W, W, lam: 0, box: b, step };
  return blend('boxMix', x, perm, null, attrs, x.shape);
}

/** FMix: mask⊙x + (1 − mask)⊙x[π] with one [H, W] mask for the whole batch. */
export function maskMix(x: Tensor, mask: Tensor, perm: Tensor): Tensor {
  assertF32('maskMix', x, mask);
  sameEngine('maskMix', x, mask, perm);
  const [N, C, H, W] = check4d('maskMix', x);
  if (mask.ndim !== 2 || mask.shape[0] !== H || mask.shape[1] !== W) {
    throw new ShapeError(`maskMix: mask must be [${H}, ${W}] for x ${fmtShape(x.shape)}, got ${fmtShape(mask.shape)}`);
  }
  checkPerm('maskMix', perm, N);
  const attrs: BlendAttrs = { mode: BlendMode.SharedMask, nx: N, rows: N, C, S: H * W, W, lam: 0, box: [0, 0, 0, 0], step: null };
  return blend('maskMix', x, perm, mask, attrs, x.shape);
}

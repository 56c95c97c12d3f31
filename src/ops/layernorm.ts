/**
 * LayerNorm over the last axis (kernels/layernorm.wgsl) and its backward rule.
 * y = (x − mean)/sqrt(var + eps)·weight + bias, biased variance, as PyTorch.
 * The backward's last pass (ln_param_final) writes dweight and dbias, or, in
 * the fused kernel forms, adds them in place to the `.grad` of a parameter
 * that has one (src/autograd/leaf-grad.ts; no separate acc_add).
 */
import { record } from '../autograd/record.js';
import type { Engine } from '../engine.js';
import type { GraphNode } from '../autograd/graph.js';
import { gradMode, gradTarget } from '../autograd/leaf-grad.js';
import { LimitError, ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { kernelForms } from './kernel-forms.js';
import { assertF32, sameEngine } from './launch.js';
import { memoryBoundShape } from './memory-bound.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    layerNorm: { attrs: { hasWeight: boolean }; saved: [x: Tensor, stats: Tensor, weight?: Tensor] };
  }
}

/** Rows summed per thread in the first stage of the weight/bias gradient. */
const ROWS = 64;
const PWG = 64;

/**
 * Workgroup size for one row of D elements: a power of two, 64..256 by D on
 * GPUs, so short rows do not idle most lanes; capped by memory-bound.ts
 * `normWg` (8 on CPU adapters, where each tree round's barrier is a
 * coroutine switch: ln_fwd 3.5× and ln_bwd_input 2.9× faster at 8 than 64
 * on lavapipe for ViT-tiny's rows, D = 192).
 */
function rowWG(e: Engine, D: number): number {
  return Math.min(memoryBoundShape(e).normWg, D >= 1024 ? 256 : D >= 256 ? 128 : 64);
}

function dims(x: Tensor): { R: number; D: number } {
  const D = x.shape[x.ndim - 1]!;
  return { R: D === 0 ? 0 : x.size / D, D };
}

/** Forward launcher: returns y and the [2, R] (mean, rstd) statistics. */
export function layerNormRaw(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): { y: Tensor; stats: Tensor } {
  const e = x.engine;
  const { R, D } = dims(x);
  const y = e.empty(x.shape);
  const stats = e.empty([2, R]);
  if (R === 0) return { y, stats };
  const WG = rowWG(e, D);
  e.run('layernorm', 'ln_fwd', {
    bind: { x, weight: weight ?? e.placeholder(), bias: bias ?? e.placeholder(), stats, out: y },
    params: { R, D, eps },
    constants: { WG, HAS_WEIGHT: weight ? 1 : 0, HAS_BIAS: bias ? 1 : 0 },
    workgroups: R,
  });
  return { y, stats };
}

/** LayerNorm over the last axis; weight and bias ([D]) may be null. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const ts = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  assertF32('layerNorm', ...ts);
  sameEngine('layerNorm', ...ts);
  if (x.ndim < 1) throw new ShapeError(`layerNorm: input must have at least one dimension, got ${fmtShape(x.shape)}`);
  const D = x.shape[x.ndim - 1]!;
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== D)) {
      throw new ShapeError(`layerNorm: ${name} must have shape [${D}] for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
    }
  }
  const { y, stats } = layerNormRaw(x, weight, bias, eps);
  record(y, 'layerNorm', [x, weight, bias], weight ? [x, stats, weight] : [x, stats], { hasWeight: weight !== null });
  stats.dispose();
  return y;
}

export function layerNormBackward(node: GraphNode<'layerNorm'>, g: Tensor): (Tensor | null)[] {
  const { hasWeight } = node.attrs;
  const [x, stats, w] = node.saved;
  const weight = hasWeight ? w! : null;
  const [xIn, wIn, bIn] = node.inputs;
  const e = g.engine;
  const { R, D } = dims(x);
  const inPlace = kernelForms(e).fused;
  let dx: Tensor | null = null;
  if (xIn?.requiresGrad) {
    // x's gradient so far in this backward pass (a residual stream's): dx is added into it.
    const into = gradTarget(xIn, inPlace);
    const out = into ?? e.empty(x.shape);
    if (R > 0) {
      e.run('layernorm', 'ln_bwd_input', {
        bind: { x, dy: g, weight: weight ?? e.placeholder(), stats, out },
        params: { R, D },
        constants: { WG: rowWG(e, D), HAS_WEIGHT: weight ? 1 : 0, ACCUMULATE: into ? 1 : 0 },
        workgroups: R,
      });
    }
    if (!into) dx = out;
  }
  let wMode = gradMode(wIn, inPlace);
  let bMode = gradMode(bIn, inPlace);
  // One tensor (or one gradient sum) as weight and bias: two in-place bindings of one buffer would alias.
  if (wIn && (wIn === bIn || (wMode === 2 && bMode === 2 && gradTarget(wIn, inPlace) === gradTarget(bIn, inPlace)))) {
    wMode = Math.min(wMode, 1) as 0 | 1;
    bMode = Math.min(bMode, 1) as 0 | 1;
  }
  let dw: Tensor | null = null;
  let db: Tensor | null = null;
  if (wMode || bMode) {
    const chunks = Math.max(1, Math.ceil(R / ROWS));
    if (chunks > e.limits.maxComputeWorkgroupsPerDimension) {
      throw new LimitError(`layerNorm backward: ${R} rows exceed the grid limit`, 'maxComputeWorkgroupsPerDimension');
    }
    if (Math.ceil(D / PWG) > e.limits.maxComputeWorkgroupsPerDimension) {
      throw new LimitError(`layerNorm backward: ${D} features exceed the grid limit of the parameter-gradient pass`, 'maxComputeWorkgroupsPerDimension');
    }
    const part = e.empty([chunks, 2, D]);
    const scratch: Tensor[] = [];
    const gradOut = (mode: number, t: Tensor | null | undefined): Tensor => {
      if (mode === 2) return gradTarget(t, inPlace)!;
      const r = e.empty([mode === 1 ? D : 1]);
      if (mode === 0) scratch.push(r);
      return r;
    };
    const wgrad = gradOut(wMode, wIn);
    const bgrad = gradOut(bMode, bIn);
    if (R > 0) {
      e.run('layernorm', 'ln_param_partial', {
        bind: { x, dy: g, stats, part },
        params: { R, D, chunks },
        constants: { WG: PWG, ROWS },
        workgroups: [Math.ceil(D / PWG), chunks],
      });
    }
    if (D > 0) {
      // No rows: chunks 0, so the sums are 0 (written, or added as the separate add would).
      e.run('layernorm', 'ln_param_final', {
        bind: { part, wgrad, bgrad },
        params: { R, D, chunks: R > 0 ? chunks : 0 },
        constants: { WG: PWG, W_GRAD: wMode, B_GRAD: bMode },
        workgroups: Math.ceil((2 * D) / PWG),
      });
    }
    if (wMode === 1) dw = wgrad;
    if (bMode === 1) db = bgrad;
    part.dispose();
    for (const t of scratch) t.dispose();
  }
  return [dx, dw, db];
}

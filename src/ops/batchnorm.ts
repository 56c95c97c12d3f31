/**
 * BatchNorm2d (kernels/batchnorm.wgsl), PyTorch semantics, and its backward rule.
 *
 * Training: normalises with the batch statistics (biased variance) and updates
 * `runningMean`/`runningVar` in place on the GPU: running = (1 − m)·running +
 * m·stat, with the unbiased variance for running_var. Eval: normalises with
 * the running statistics. The backward computes dx only when x requires grad,
 * dweight/dbias only when those require grad; in training mode dx needs the
 * per-channel sums Σdy and Σdy·x̂ whatever the parameters want (they are the
 * mean/variance terms), in eval mode an input-only backward is one pass.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { LimitError, ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, sameEngine } from './launch.js';

export interface BatchNormOptions {
  training: boolean;
  /** Weight of the new statistic in the running average (PyTorch default 0.1). */
  momentum?: number;
  eps?: number;
}

const WG = 256;
/** About this many elements of one channel per workgroup (WG threads × 16). */
const CHUNK = WG * 16;

interface Geo {
  N: number;
  C: number;
  HW: number;
  L: number;
  /** Whole images per chunk (HW ≥ WG) or single elements (see batchnorm.wgsl). */
  rowMode: boolean;
  units: number;
  unit: number;
  chunk: number;
  chunks: number;
}

function geometry(x: Tensor): Geo {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const HW = H * W;
  const L = N * HW;
  const rowMode = HW >= WG;
  const units = rowMode ? N : L;
  const unit = rowMode ? HW : 1;
  const chunk = rowMode ? Math.max(1, Math.round(CHUNK / HW)) : CHUNK;
  const chunks = Math.max(1, Math.ceil(units / chunk));
  return { N, C, HW, L, rowMode, units, unit, chunk, chunks };
}

function baseParams(g: Geo): Record<string, number> {
  return {
    C: g.C,
    HW: g.HW,
    L: g.L,
    CHW: g.C * g.HW,
    chunks: g.chunks,
    chunk: g.chunk,
    units: g.units,
    unit: g.unit,
    step_n: Math.floor(WG / g.HW),
    step_hw: WG % g.HW,
  };
}

function check(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor, runningVar: Tensor, training: boolean): Engine {
  const ts = [x, runningMean, runningVar, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  assertF32('batchNorm2d', ...ts);
  const engine = sameEngine('batchNorm2d', ...ts);
  if (x.ndim !== 4) throw new ShapeError(`batchNorm2d: expected NCHW input, got ${fmtShape(x.shape)}`);
  const C = x.shape[1]!;
  const named: [string, Tensor | null][] = [['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]];
  for (const [name, t] of named) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new ShapeError(`batchNorm2d: ${name} must have shape [${C}] for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
    }
  }
  if (C > engine.limits.maxComputeWorkgroupsPerDimension) {
    throw new LimitError(`batchNorm2d: ${C} channels exceed maxComputeWorkgroupsPerDimension`, 'maxComputeWorkgroupsPerDimension');
  }
  if (training && x.shape[0]! * x.shape[2]! * x.shape[3]! <= 1) {
    throw new ShapeError(`batchNorm2d: expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`);
  }
  return engine;
}

/**
 * Per-channel [2, C] statistics (mean, 1/sqrt(var + eps)). In training mode
 * from the batch, updating the running buffers; otherwise from the running buffers.
 */
export function batchNormStatsRaw(x: Tensor, runningMean: Tensor, runningVar: Tensor, training: boolean, momentum: number, eps: number): Tensor {
  const e = x.engine;
  const g = geometry(x);
  const stats = e.empty([2, g.C]);
  const params = { ...baseParams(g), eps, momentum };
  if (!training) {
    e.run('batchnorm', 'bn_eval_stats', { bind: { running_mean: runningMean, running_var: runningVar, stats }, params, workgroups: Math.ceil(g.C / 64) });
    return stats;
  }
  const part = e.empty([g.C, g.chunks, 2]);
  e.run('batchnorm', 'bn_stats_partial', { bind: { x, part }, params, constants: { WG, ROW_MODE: g.rowMode ? 1 : 0 }, workgroups: [g.chunks, g.C] });
  e.run('batchnorm', 'bn_stats_final', {
    bind: { part, stats, running_mean: runningMean, running_var: runningVar },
    params,
    constants: { UPDATE_RUNNING: 1 },
    workgroups: Math.ceil(g.C / 64),
  });
  part.dispose();
  return stats;
}

/** out = (x − mean)·invstd·weight + bias with [2, C] stats. */
export function batchNormApplyRaw(x: Tensor, stats: Tensor, weight: Tensor | null, bias: Tensor | null): Tensor {
  const e = x.engine;
  const g = geometry(x);
  const out = e.empty(x.shape);
  e.run('batchnorm', 'bn_apply', {
    bind: { x, stats, weight: weight ?? e.placeholder(), bias: bias ?? e.placeholder(), out },
    params: baseParams(g),
    constants: { WG, ROW_MODE: g.rowMode ? 1 : 0, HAS_WEIGHT: weight ? 1 : 0, HAS_BIAS: bias ? 1 : 0 },
    workgroups: [g.chunks, g.C],
  });
  return out;
}

/** [2, C]: row 0 Σ dy, row 1 Σ dy·x̂ (per channel). */
export function batchNormGradSumsRaw(x: Tensor, dy: Tensor, stats: Tensor): Tensor {
  const e = x.engine;
  const g = geometry(x);
  const params = baseParams(g);
  const part = e.empty([g.C, g.chunks, 2]);
  e.run('batchnorm', 'bn_grad_partial', { bind: { x, dy, stats, part }, params, constants: { WG, ROW_MODE: g.rowMode ? 1 : 0 }, workgroups: [g.chunks, g.C] });
  const gsum = e.empty([2, g.C]);
  e.run('batchnorm', 'bn_grad_final', { bind: { part, gsum }, params, workgroups: Math.ceil(g.C / 64) });
  part.dispose();
  return gsum;
}

/** dx for training mode (gsum from batchNormGradSumsRaw) or eval mode (gsum null). */
export function batchNormGradInputRaw(x: Tensor, dy: Tensor, stats: Tensor, weight: Tensor | null, gsum: Tensor | null): Tensor {
  const e = x.engine;
  const g = geometry(x);
  const dx = e.empty(x.shape);
  const constants = { WG, ROW_MODE: g.rowMode ? 1 : 0, HAS_WEIGHT: weight ? 1 : 0 };
  const w = weight ?? e.placeholder();
  if (gsum) {
    e.run('batchnorm', 'bn_grad_input_train', { bind: { x, dy, stats, weight: w, gsum, out: dx }, params: baseParams(g), constants, workgroups: [g.chunks, g.C] });
  } else {
    e.run('batchnorm', 'bn_grad_input_eval', { bind: { dy, stats, weight: w, out: dx }, params: baseParams(g), constants, workgroups: [g.chunks, g.C] });
  }
  return dx;
}

/**
 * BatchNorm2d over NCHW input, PyTorch semantics (see the module comment).
 * `weight`/`bias` may be null (affine=False).
 */
export function batchNorm2d(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  o: BatchNormOptions,
): Tensor {
  const engine = check(x, weight, bias, runningMean, runningVar, o.training);
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  if (x.size === 0) return engine.empty(x.shape);
  const stats = batchNormStatsRaw(x, runningMean, runningVar, o.training, momentum, eps);
  const out = batchNormApplyRaw(x, stats, weight, bias);
  const saved = [x, stats, ...(weight ? [weight] : [])];
  record(out, 'batchNorm2d', [x, weight, bias], saved, { training: o.training, hasWeight: weight !== null });
  stats.dispose();
  return out;
}

export function batchNorm2dBackward(node: GraphNode, g: Tensor): (Tensor | null)[] {
  const { training, hasWeight } = node.attrs as { training: boolean; hasWeight: boolean };
  const [x, stats] = node.saved as [Tensor, Tensor];
  const weight = hasWeight ? node.saved[2]! : null;
  const [xIn, wIn, bIn] = node.inputs;
  const wantX = xIn?.requiresGrad ?? false;
  const wantW = wIn?.requiresGrad ?? false;
  const wantB = bIn?.requiresGrad ?? false;
  const e = g.engine;
  const C = x.shape[1]!;
  // Σdy and Σdy·x̂: needed by dx in training mode, and by dweight/dbias.
  const gsum = training || wantW || wantB ? batchNormGradSumsRaw(x, g, stats) : null;
  const dx = wantX ? batchNormGradInputRaw(x, g, stats, weight, training ? gsum : null) : null;
  let dw: Tensor | null = null;
  let db: Tensor | null = null;
  if (gsum && wantB) {
    db = e.empty([C]);
    e.copyBuffer(gsum, db, C * 4, 0, 0);
  }
  if (gsum && wantW) {
    dw = e.empty([C]);
    e.copyBuffer(gsum, dw, C * 4, C * 4, 0);
  }
  gsum?.dispose();
  return [dx, dw, db];
}

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
 *
 * Fused forms (`kernelForms(engine).fused`, src/ops/kernel-forms.ts, the default): `relu` and `residual` run in
 * the same pass as the normalisation — relu(bn(x) + residual), a ResNet
 * block's end — and backward; the per-channel merges run inside the
 * per-element passes, a channel of one chunk is one dispatch, and
 * dweight/dbias are added to the parameters' `.grad` by the kernel. Dispatches
 * (training, C channels in k chunks each): forward 2 (1 when k = 1) instead
 * of 3 (+1 residual add, +1 ReLU); backward 2 (1 when k = 1) instead of 3
 * (+1 ReLU backward, +2 residual-add backward, +2 gradient accumulations).
 * The results equal the unfused sequence bit for bit (test/ops/batchnorm.test.ts).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { gradMode, gradTarget } from '../autograd/leaf-grad.js';
import { LimitError, ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { add, relu as reluOp } from './elementwise.js';
import { kernelForms } from './kernel-forms.js';
import { assertF32, sameEngine, sameShape } from './launch.js';
import { memoryBoundShape } from './memory-bound.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /** [x, stats], then weight when attrs.hasWeight, then the output when attrs.relu (fused only) */
    batchNorm2d: { attrs: BnAttrs; saved: [x: Tensor, stats: Tensor, ...rest: Tensor[]] };
  }
}

export interface BatchNormOptions {
  training: boolean;
  /** Weight of the new statistic in the running average (PyTorch default 0.1). */
  momentum?: number;
  eps?: number;
  /** relu(…) of the result, in the same pass. */
  relu?: boolean;
  /** Adds this tensor (x's shape) to the normalised x before the ReLU: relu(bn(x) + residual). */
  residual?: Tensor | null;
}

/** Planes at least this wide are walked in whole images (ROW_MODE). */
const ROW_MIN = 256;
/** About this many elements of one channel per workgroup. */
const CHUNK = 4096;

interface Geo {
  N: number;
  C: number;
  HW: number;
  L: number;
  /** Threads per workgroup of every entry (memory-bound.ts `normWg`: a few on CPU adapters, where barriers are coroutine switches). */
  wg: number;
  /** Whole images per chunk (HW ≥ ROW_MIN) or single elements (see batchnorm.wgsl). */
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
  const wg = memoryBoundShape(x.engine).normWg;
  const rowMode = HW >= ROW_MIN;
  const units = rowMode ? N : L;
  const unit = rowMode ? HW : 1;
  const chunk = rowMode ? Math.max(1, Math.round(CHUNK / HW)) : CHUNK;
  const chunks = Math.max(1, Math.ceil(units / chunk));
  return { N, C, HW, L, wg, rowMode, units, unit, chunk, chunks };
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
    step_n: Math.floor(g.wg / g.HW),
    step_hw: g.wg % g.HW,
  };
}

function check(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  training: boolean,
  residual: Tensor | null,
): Engine {
  const ts = [x, runningMean, runningVar, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  assertF32('batchNorm2d', ...ts);
  const engine = sameEngine('batchNorm2d', ...ts);
  if (x.ndim !== 4) throw new ShapeError(`batchNorm2d: expected NCHW input, got ${fmtShape(x.shape)}`);
  const C = x.shape[1]!;
  const named: [string, Tensor | null][] = [
    ['weight', weight],
    ['bias', bias],
    ['runningMean', runningMean],
    ['runningVar', runningVar],
  ];
  for (const [name, t] of named) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new ShapeError(`batchNorm2d: ${name} must have shape [${C}] for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
    }
  }
  if (residual && !sameShape(residual.shape, x.shape)) {
    throw new ShapeError(`batchNorm2d: residual must have the input's shape ${fmtShape(x.shape)}, got ${fmtShape(residual.shape)}`);
  }
  if (C > engine.limits.maxComputeWorkgroupsPerDimension) {
    throw new LimitError(`batchNorm2d: ${C} channels exceed maxComputeWorkgroupsPerDimension`, 'maxComputeWorkgroupsPerDimension');
  }
  if (training && x.shape[0]! * x.shape[2]! * x.shape[3]! <= 1) {
    throw new ShapeError(`batchNorm2d: expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`);
  }
  return engine;
}

const flag = (b: boolean) => (b ? 1 : 0);

/**
 * The vec4 entry's launch when `tensors` allow it (H·W % 4 = 0, vec4-aligned
 * starts), else null: the params of its walker and the override constants of
 * memory-bound.ts's shape for this adapter.
 */
function vec4Launch(e: Engine, g: Geo, tensors: (Tensor | null)[]): Launch | null {
  if (!kernelForms(e).vec4 || !vec4Fits(g, tensors)) return null;
  const shape = memoryBoundShape(e);
  return vec4Walk(g, shape.perThread, shape.contiguous);
}

interface Launch {
  params: Record<string, number>;
  constants: Record<string, number>;
}

const vec4Fits = (g: Geo, tensors: (Tensor | null)[]) => g.HW % 4 === 0 && tensors.every((t) => !t || t.offset % 4 === 0);

/** The vec4 walker's params and constants: `perThread` vec4s a round, consecutive or g.wg apart (batchnorm.wgsl). */
function vec4Walk(g: Geo, perThread: number, contiguous: boolean): Launch {
  const HW4 = g.HW / 4;
  const inner = contiguous ? 1 : g.wg;
  const round = g.wg * perThread;
  return {
    params: {
      HW4,
      CHW4: g.C * HW4,
      in_n4: Math.floor(inner / HW4),
      in_hw4: inner % HW4,
      st_n4: Math.floor(round / HW4),
      st_hw4: round % HW4,
    },
    constants: { WG: g.wg, VPT: perThread, CONTIGUOUS: flag(contiguous) },
  };
}

/**
 * How the per-channel sums (the statistics, the gradient sums, and the
 * one-chunk entries that compute them) walk a chunk: vec4s wherever the
 * planes and `tensors` allow (the `_v4` entries), else scalars. Decided
 * by the shapes and the adapter only, never by the kernel forms, so the
 * fused and unfused forms, and the vec4 and scalar per-element passes, sum
 * in the same order and stay bit-identical to one another.
 */
function sumsLaunch(e: Engine, g: Geo, tensors: (Tensor | null)[]): Launch & { v4: boolean } {
  const shape = memoryBoundShape(e);
  if (vec4Fits(g, tensors)) return { v4: true, ...vec4Walk(g, shape.perThread, shape.contiguous) };
  return { v4: false, params: {}, constants: { WG: g.wg, ROW_MODE: flag(g.rowMode) } };
}

/** The statistics partials of x's chunks into `stats` (from part_base). */
function statsPartial(e: Engine, g: Geo, x: Tensor, stats: Tensor, params: Record<string, number>): void {
  const s = sumsLaunch(e, g, [x]);
  e.run('batchnorm', s.v4 ? 'bn_stats_partial_v4' : 'bn_stats_partial', {
    bind: s.v4 ? { x4: x, part: stats } : { x, part: stats },
    params: { ...params, ...s.params },
    constants: s.constants,
    workgroups: [g.chunks, g.C],
  });
}

/** The gradient sums' partials [C, chunks, 2] (Σ g, Σ g·x̂), with the epilogue's backward and, with WRITE_DS, ds. */
function gradPartial(
  e: Engine,
  g: Geo,
  t: { x: Tensor; dy: Tensor; stats: Tensor; part: Tensor; y: Tensor | null; ds: Tensor },
  params: Record<string, number>,
  epilogue: Record<string, number>,
): void {
  const s = sumsLaunch(e, g, [t.x, t.dy, t.y, t.ds]);
  const y = t.y ?? e.placeholder();
  e.run('batchnorm', s.v4 ? 'bn_grad_partial_v4' : 'bn_grad_partial', {
    bind: s.v4 ? { x4: t.x, dy4: t.dy, stats: t.stats, part: t.part, y4: y, ds4: t.ds } : { ...t, y },
    params: { ...params, ...s.params },
    constants: { ...epilogue, ...s.constants },
    workgroups: [g.chunks, g.C],
  });
}

/**
 * The statistics buffer: a [3, C] header (mean, 1/sqrt(var + eps), weight;
 * eval mode: the first two rows) and, in training mode with several chunks,
 * the forward's chunk partials. Saved for the backward.
 */
function statsBuffer(e: Engine, g: Geo, training: boolean, partials: boolean): Tensor {
  return e.empty([(training ? 3 : 2) * g.C + (partials ? 2 * g.C * g.chunks : 0)]);
}

/** A one-vec4 buffer for a read-write binding an entry declares but does not write here. */
function scratch(e: Engine): Tensor {
  return e.empty([4]);
}

/** The unfused forward: statistics, merge, apply (3 dispatches in training, 2 in eval). */
function forwardUnfused(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  training: boolean,
  momentum: number,
  eps: number,
) {
  const e = x.engine;
  const g = geometry(x);
  const stats = statsBuffer(e, g, training, training);
  const params = { ...baseParams(g), eps, momentum, part_base: 3 * g.C };
  const w = weight ?? e.placeholder();
  if (training) {
    statsPartial(e, g, x, stats, params);
    e.run('batchnorm', 'bn_stats_final', {
      bind: { stats, running_mean: runningMean, running_var: runningVar, weight: w },
      params,
      constants: { UPDATE_RUNNING: 1, HAS_WEIGHT: flag(weight !== null) },
      workgroups: Math.ceil(g.C / 64),
    });
  } else {
    e.run('batchnorm', 'bn_eval_stats', { bind: { running_mean: runningMean, running_var: runningVar, stats }, params, workgroups: Math.ceil(g.C / 64) });
  }
  const out = e.empty(x.shape);
  e.run('batchnorm', 'bn_apply', {
    bind: { x, stats, weight: w, bias: bias ?? e.placeholder(), res: e.placeholder(), out },
    params,
    constants: { WG: g.wg, ROW_MODE: flag(g.rowMode), HAS_WEIGHT: flag(weight !== null), HAS_BIAS: flag(bias !== null) },
    workgroups: [g.chunks, g.C],
  });
  return { out, stats };
}

/** The fused forward: relu(bn(x) + residual) in 2 dispatches (1 for one-chunk channels). */
function forwardFused(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  residual: Tensor | null,
  o: { training: boolean; momentum: number; eps: number; relu: boolean },
) {
  const e = x.engine;
  const g = geometry(x);
  // One chunk per channel: one dispatch, unless its vec4 form would need the residual on a vec4 and it is not.
  const sums = sumsLaunch(e, g, [x]);
  const single = g.chunks === 1 && (!sums.v4 || vec4Fits(g, [residual]));
  const partials = o.training && !single;
  const stats = statsBuffer(e, g, o.training, partials);
  const out = e.empty(x.shape);
  const params = { ...baseParams(g), eps: o.eps, momentum: o.momentum, part_base: 3 * g.C };
  const constants = {
    WG: g.wg,
    ROW_MODE: flag(g.rowMode),
    HAS_WEIGHT: flag(weight !== null),
    HAS_BIAS: flag(bias !== null),
    RELU: flag(o.relu),
    RESIDUAL: flag(residual !== null),
  };
  const bind = { x, stats, weight: weight ?? e.placeholder(), bias: bias ?? e.placeholder(), res: residual ?? e.placeholder(), out };
  if (!o.training) {
    e.run('batchnorm', 'bn_eval_stats', { bind: { running_mean: runningMean, running_var: runningVar, stats }, params, workgroups: Math.ceil(g.C / 64) });
    e.run('batchnorm', 'bn_apply', { bind, params, constants, workgroups: [g.chunks, g.C] });
    return { out, stats };
  }
  const train = { bind: { ...bind, running_mean: runningMean, running_var: runningVar }, params, constants: { ...constants, UPDATE_RUNNING: 1 } };
  if (partials) {
    statsPartial(e, g, x, stats, params);
    const v4 = vec4Launch(e, g, [x, residual, out]);
    if (v4) {
      const { x: x4, res, out: out4, ...rest } = train.bind;
      e.run('batchnorm', 'bn_apply_merge_v4', {
        bind: { ...rest, x4, res4: res, out4 },
        params: { ...params, ...v4.params },
        constants: { ...train.constants, ...v4.constants },
        workgroups: [g.chunks, g.C],
      });
    } else {
      e.run('batchnorm', 'bn_apply_merge', { ...train, workgroups: [g.chunks, g.C] });
    }
  } else if (sums.v4) {
    const { x: x4, res, out: out4, ...rest } = train.bind;
    e.run('batchnorm', 'bn_forward_single_v4', {
      bind: { ...rest, x4, res4: res, out4 },
      params: { ...params, ...sums.params },
      constants: { ...train.constants, ...sums.constants },
      workgroups: [1, g.C],
    });
  } else {
    e.run('batchnorm', 'bn_forward_single', {
      ...train,
      params: { ...params, ...sums.params },
      constants: { ...train.constants, ...sums.constants },
      workgroups: [1, g.C],
    });
  }
  return { out, stats };
}

interface BnAttrs {
  training: boolean;
  hasWeight: boolean;
  fused: boolean;
  relu: boolean;
  residual: boolean;
}

/**
 * BatchNorm2d over NCHW input, PyTorch semantics (see the module comment).
 * `weight`/`bias` may be null (affine=False). With `relu` and/or `residual`:
 * relu(bn(x) + residual) in the same pass, bit for bit the separate ops.
 */
export function batchNorm2d(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor, runningVar: Tensor, o: BatchNormOptions): Tensor {
  const residual = o.residual ?? null;
  const engine = check(x, weight, bias, runningMean, runningVar, o.training, residual);
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  const relu = o.relu ?? false;
  if (x.size === 0) return engine.empty(x.shape);
  if (!kernelForms(engine).fused) {
    const { out, stats } = forwardUnfused(x, weight, bias, runningMean, runningVar, o.training, momentum, eps);
    const attrs: BnAttrs = { training: o.training, hasWeight: weight !== null, fused: false, relu: false, residual: false };
    record(out, 'batchNorm2d', [x, weight, bias], [x, stats, ...(weight ? [weight] : [])], attrs);
    stats.dispose();
    let y = out;
    if (residual) {
      y = add(out, residual);
      out.dispose();
    }
    if (relu) {
      const r = reluOp(y);
      y.dispose();
      y = r;
    }
    return y;
  }
  const { out, stats } = forwardFused(x, weight, bias, runningMean, runningVar, residual, { training: o.training, momentum, eps, relu });
  const attrs: BnAttrs = { training: o.training, hasWeight: weight !== null, fused: true, relu, residual: residual !== null };
  const saved: [Tensor, Tensor, ...Tensor[]] = [x, stats, ...(weight ? [weight] : []), ...(relu ? [out] : [])];
  record(out, 'batchNorm2d', [x, weight, bias, residual], saved, attrs);
  stats.dispose();
  return out;
}

export function batchNorm2dBackward(node: GraphNode<'batchNorm2d'>, g: Tensor): (Tensor | null)[] {
  const attrs = node.attrs;
  return attrs.fused ? backwardFused(node, g, attrs) : backwardUnfused(node, g, attrs);
}

/** The unfused backward: gradient sums, merge, dx (3 dispatches in training); dweight/dbias returned. */
function backwardUnfused(node: GraphNode<'batchNorm2d'>, dy: Tensor, { training, hasWeight }: BnAttrs): (Tensor | null)[] {
  const [x, stats] = node.saved;
  const weight = hasWeight ? node.saved[2]! : null;
  const [xIn, wIn, bIn] = node.inputs;
  const wantX = xIn?.requiresGrad ?? false;
  const wantW = wIn?.requiresGrad ?? false;
  const wantB = bIn?.requiresGrad ?? false;
  const e = dy.engine;
  const g = geometry(x);
  const params = baseParams(g);
  const ph = e.placeholder();
  const ds = scratch(e);
  // Σdy and Σdy·x̂: needed by dx in training mode, and by dweight/dbias.
  let gsum: Tensor | null = null;
  if (training || wantW || wantB) {
    const part = e.empty([g.C, g.chunks, 2]);
    gradPartial(e, g, { x, dy, stats, part, y: null, ds }, params, {});
    gsum = e.empty([2, g.C]);
    e.run('batchnorm', 'bn_grad_final', { bind: { part, gsum }, params, workgroups: Math.ceil(g.C / 64) });
    part.dispose();
  }
  let dx: Tensor | null = null;
  if (wantX) {
    dx = e.empty(x.shape);
    const constants = { WG: g.wg, ROW_MODE: flag(g.rowMode), HAS_WEIGHT: flag(weight !== null) };
    const w = weight ?? ph;
    if (training) {
      e.run('batchnorm', 'bn_grad_input_train', {
        bind: { x, dy, stats, weight: w, gsum: gsum!, y: ph, out: dx },
        params,
        constants,
        workgroups: [g.chunks, g.C],
      });
    } else {
      e.run('batchnorm', 'bn_grad_input_eval', { bind: { dy, stats, weight: w, y: ph, ds, out: dx }, params, constants, workgroups: [g.chunks, g.C] });
    }
  }
  ds.dispose();
  let dw: Tensor | null = null;
  let db: Tensor | null = null;
  if (gsum && wantB) {
    db = e.empty([g.C]);
    e.copyBuffer(gsum, db, g.C * 4, 0, 0);
  }
  if (gsum && wantW) {
    dw = e.empty([g.C]);
    e.copyBuffer(gsum, dw, g.C * 4, g.C * 4, 0);
  }
  gsum?.dispose();
  return [dx, dw, db];
}

/** The fused backward: 2 dispatches in training (1 for one-chunk channels), parameter gradients accumulated in place. */
function backwardFused(node: GraphNode<'batchNorm2d'>, dy: Tensor, { training, hasWeight, relu, residual }: BnAttrs): (Tensor | null)[] {
  const [x, stats] = node.saved;
  const weight = hasWeight ? node.saved[2]! : null;
  const y = relu ? node.saved[node.saved.length - 1]! : null;
  const [xIn, wIn, bIn, sIn] = node.inputs;
  const wantX = xIn?.requiresGrad ?? false;
  const wantS = sIn?.requiresGrad ?? false;
  let wMode = gradMode(wIn);
  let bMode = gradMode(bIn);
  // One tensor (or one gradient sum) as weight and bias: two in-place bindings of one buffer would alias.
  if (wIn && (wIn === bIn || (wMode === 2 && bMode === 2 && gradTarget(wIn) === gradTarget(bIn)))) {
    wMode = Math.min(wMode, 1) as 0 | 1;
    bMode = Math.min(bMode, 1) as 0 | 1;
  }
  const e = dy.engine;
  const g = geometry(x);
  const C = g.C;
  const params = baseParams(g);
  const ph = e.placeholder();
  const temps: Tensor[] = [];
  const tmp = (t: Tensor) => {
    temps.push(t);
    return t;
  };
  const gradOut = (mode: number, t: Tensor | null | undefined) => (mode === 2 ? gradTarget(t)! : mode === 1 ? e.empty([C]) : tmp(scratch(e)));
  const wgrad = gradOut(wMode, wIn);
  const bgrad = gradOut(bMode, bIn);
  const ds = wantS ? e.empty(x.shape) : tmp(scratch(e));
  const epi = { WG: g.wg, ROW_MODE: flag(g.rowMode), RELU: flag(relu), RESIDUAL: flag(residual) };
  const pgrads = { W_GRAD: wMode, B_GRAD: bMode };
  const yb = y ?? ph;
  let dx: Tensor | null = null;
  if (training && wantX) {
    dx = e.empty(x.shape);
    const sums = sumsLaunch(e, g, [x, dy, y, ds]);
    if (g.chunks === 1) {
      const bind = { x, dy, stats, y: yb, ds, out: dx, wgrad, bgrad };
      const { x: x4, dy: dy4, y: y4, ds: ds4, out: out4, ...rest } = bind;
      e.run('batchnorm', sums.v4 ? 'bn_backward_single_v4' : 'bn_backward_single', {
        bind: sums.v4 ? { ...rest, x4, dy4, y4, ds4, out4 } : bind,
        params: { ...params, ...sums.params },
        constants: { ...epi, ...pgrads, WRITE_DS: flag(wantS), ...sums.constants },
        workgroups: [1, C],
      });
    } else {
      const part = tmp(e.empty([C, g.chunks, 2]));
      gradPartial(e, g, { x, dy, stats, part, y, ds }, params, { ...epi, WRITE_DS: flag(wantS) });
      const v4 = vec4Launch(e, g, [x, dy, y, dx]);
      if (v4) {
        e.run('batchnorm', 'bn_grad_input_merge_v4', {
          bind: { x4: x, dy4: dy, stats, part, y4: yb, out4: dx, wgrad, bgrad },
          params: { ...params, ...v4.params },
          constants: { ...epi, ...pgrads, ...v4.constants },
          workgroups: [g.chunks, C],
        });
      } else {
        e.run('batchnorm', 'bn_grad_input_merge', {
          bind: { x, dy, stats, part, y: yb, out: dx, wgrad, bgrad },
          params,
          constants: { ...epi, ...pgrads },
          workgroups: [g.chunks, C],
        });
      }
    }
  } else {
    // Eval mode, or x frozen: the sums only for dweight/dbias (and a pass for ds).
    let dsDone = false;
    if (wMode || bMode || (wantS && !wantX)) {
      const part = tmp(e.empty([C, g.chunks, 2]));
      gradPartial(e, g, { x, dy, stats, part, y, ds }, params, { ...epi, WRITE_DS: flag(wantS) });
      dsDone = wantS;
      if (wMode || bMode) e.run('batchnorm', 'bn_param_grads', { bind: { part, wgrad, bgrad }, params, constants: pgrads, workgroups: Math.ceil(C / 64) });
    }
    if (wantX) {
      dx = e.empty(x.shape);
      e.run('batchnorm', 'bn_grad_input_eval', {
        bind: { dy, stats, weight: weight ?? ph, y: yb, ds, out: dx },
        params,
        constants: { ...epi, HAS_WEIGHT: flag(weight !== null), WRITE_DS: flag(wantS && !dsDone) },
        workgroups: [g.chunks, C],
      });
    }
  }
  for (const t of temps) t.dispose();
  return [dx, wMode === 1 ? wgrad : null, bMode === 1 ? bgrad : null, wantS ? ds : null];
}

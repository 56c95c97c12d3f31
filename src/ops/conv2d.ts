/**
 * 2-D convolution (kernels/conv2d.wgsl), PyTorch semantics and layouts:
 * x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] → y [N, O, Ho, Wo].
 * Any kernel size, stride, padding, dilation and groups (depthwise included).
 *
 * Two implementations per pass, chosen per call (`choosePath`):
 *  - 'im2col' (kernels/im2col.wgsl + matmulRaw): re-lay the input as an
 *    im2col matrix, padded to multiples of 4, and run the GEMM in matmul_sg
 *    (8-lane subgroups). Used for groups = 1 on adapters with exactly
 *    8-lane subgroups (lavapipe/llvmpipe), where it is several times faster.
 *  - 'direct' (kernels/conv2d.wgsl): implicit GEMMs over re-laid operands
 *    (shift_pad, weight_layout) with register blocking; any groups, any
 *    adapter. Used for grouped/depthwise convs, on GPUs without 8-lane
 *    subgroups (forward and grad-input), and when an im2col buffer would
 *    exceed the binding limit.
 *  - 'splitk', grad-weight only (kernels/conv2d_grad_weight.wgsl): the
 *    reduction over N·Ho·Wo cut into chunks reduced in parallel, then the
 *    partials summed in a fixed order. Used for grad-weight on adapters
 *    without 8-lane subgroups (GPUs), groups included; forcing 'splitk' gives
 *    the GPU configuration (direct forward and grad-input) on any adapter.
 * The backward rule computes only the gradients whose inputs require them.
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { assertF32, sameEngine } from './launch.js';
import { matmulRaw } from './matmul.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    conv2d: { attrs: { opts: Conv2dOptions; xShape: readonly number[]; wShape: readonly number[] }; saved: [x: Tensor, w: Tensor] };
  }
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

/** Resolved geometry of one convolution. */
export interface Conv2dShape {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
  Ho: number;
  Wo: number;
}

const WG = 64; // the WGSL's default WG override

function pair(op: string, name: string, v: number | [number, number] | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ShapeError(`${op}: ${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Validates shapes and options; throws ShapeError naming the op and the shapes. */
export function conv2dShape(xShape: readonly number[], wShape: readonly number[], o: Conv2dOptions = {}, op = 'conv2d'): Conv2dShape {
  if (xShape.length !== 4) throw new ShapeError(`${op}: input must be 4-D [N, C, H, W], got ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`${op}: weight must be 4-D [O, C/groups, KH, KW], got ${fmtShape(wShape)}`);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [O, Cw, KH, KW] = wShape as [number, number, number, number];
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`${op}: groups must be a positive integer, got ${groups}`);
  const [sh, sw] = pair(op, 'stride', o.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', o.padding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', o.dilation, 1, 1);
  if (C % groups !== 0) throw new ShapeError(`${op}: groups (${groups}) does not divide the input channels (${C}) of input ${fmtShape(xShape)}`);
  if (O % groups !== 0) throw new ShapeError(`${op}: groups (${groups}) does not divide the output channels (${O}) of weight ${fmtShape(wShape)}`);
  if (Cw * groups !== C) {
    throw new ShapeError(
      `${op}: channel mismatch: input ${fmtShape(xShape)} has ${C} channels but weight ${fmtShape(wShape)} with groups=${groups} expects ${Cw * groups}`,
    );
  }
  if (KH < 1 || KW < 1) throw new ShapeError(`${op}: empty kernel in weight ${fmtShape(wShape)}`);
  const effH = dh * (KH - 1) + 1;
  const effW = dw * (KW - 1) + 1;
  if (effH > H + 2 * ph || effW > W + 2 * pw) {
    throw new ShapeError(
      `${op}: kernel ${KH}×${KW} (dilation ${dh}×${dw}, extent ${effH}×${effW}) is larger than the padded input ${H + 2 * ph}×${W + 2 * pw} (input ${fmtShape(xShape)}, padding ${ph}×${pw})`,
    );
  }
  const Ho = Math.floor((H + 2 * ph - effH) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - effW) / sw) + 1;
  return { N, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, groups, Ho, Wo };
}

const ceil4 = (n: number) => Math.ceil(n / 4);
const round8 = (n: number) => Math.ceil(n / 8) * 8;

interface ShiftSpec {
  N: number;
  Ct: number;
  Hs: number;
  Ws: number;
  R: number;
  Q8: number;
  KW: number;
  sw: number;
  dw: number;
  up_y: number;
  up_x: number;
  off_y: number;
  off_x: number;
}

/** xs[kx][n][c][r][q] = V(r, q·sw + kx·dw), see kernels/conv2d.wgsl. */
function shiftPad(engine: Engine, src: Tensor, s: ShiftSpec): Tensor {
  const planes = s.KW * s.N * s.Ct;
  const xs = engine.empty([s.KW, s.N, s.Ct, s.R, s.Q8], 'f32', 'conv2d.xs');
  if (planes * s.R * s.Q8 > 0) {
    const y = Math.min(planes, 65535);
    engine.run('conv2d', 'shift_pad', {
      bind: { src, dst: xs },
      params: { ...s, total: planes },
      workgroups: [Math.ceil((s.R * s.Q8) / WG), y, Math.ceil(planes / y)],
    });
  }
  return xs;
}

/** wt[g][c][ky][kx][o4] (outer = output channels of this pass, padded to 4). */
function weightLayout(engine: Engine, w: Tensor, groups: number, inner: number, outer: number, KH: number, KW: number, flip: boolean): Tensor {
  const OQ = ceil4(outer);
  const total = groups * inner * KH * KW * OQ * 4;
  const wt = engine.empty([total], 'f32', 'conv2d.wt');
  engine.run('conv2d', 'weight_layout', {
    bind: { src: w, dst: wt },
    params: { groups, Cg: inner, Og: outer, OQ, KH, KW, total },
    constants: { FLIP: flip ? 1 : 0 },
    workgroups: Math.ceil(total / WG),
  });
  return wt;
}

interface CoreSpec {
  entry: 'conv2d_fwd' | 'conv2d_bwd_input';
  xs: Tensor;
  wt: Tensor;
  bias: Tensor | null;
  out: Tensor;
  N: number;
  Ct: number;
  R: number;
  Q8: number;
  KH: number;
  KW: number;
  groups: number;
  Cg: number;
  Og: number;
  Ot: number;
  Ho: number;
  Wo: number;
  sh: number;
  dh: number;
}

function convCore(engine: Engine, s: CoreSpec): void {
  const OQ = ceil4(s.Og);
  const total = s.N * s.groups * s.Ho * (s.Q8 / 8) * OQ;
  if (total === 0) return;
  engine.run('conv2d', s.entry, {
    bind: { xs4: s.xs, wt: s.wt, bias: s.bias ?? engine.placeholder(), dst: s.out },
    params: {
      N: s.N,
      Ct: s.Ct,
      R: s.R,
      Q8: s.Q8,
      KH: s.KH,
      KW: s.KW,
      groups: s.groups,
      Cg: s.Cg,
      Og: s.Og,
      OQ,
      Ot: s.Ot,
      Ho: s.Ho,
      Wo: s.Wo,
      sh: s.sh,
      dh: s.dh,
      total,
    },
    constants: { HAS_BIAS: s.bias ? 1 : 0 },
    workgroups: Math.ceil(total / WG),
  });
}

function fill0(engine: Engine, t: Tensor): Tensor {
  if (t.size) engine.run('elementwise', 'fill', { bind: { out: t }, params: { n: t.size, alpha: 0 }, workgroups: Math.ceil(t.size / 256) });
  return t;
}

/** The forward launcher (no autograd): y = conv2d(x, w) + bias. */
export function conv2dForwardRaw(x: Tensor, w: Tensor, bias: Tensor | null, o: Conv2dOptions = {}, impl: Conv2dImpl = {}): Tensor {
  assertF32('conv2d', x, w, ...(bias ? [bias] : []));
  const engine = sameEngine('conv2d', x, w, ...(bias ? [bias] : []));
  const g = conv2dShape(x.shape, w.shape, o);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== g.O)) {
    throw new ShapeError(`conv2d: bias must have shape [${g.O}] for weight ${fmtShape(w.shape)}, got ${fmtShape(bias.shape)}`);
  }
  if (g.N * g.O * g.Ho * g.Wo > 0 && choosePath(engine, g, 'forward', impl) === 'im2col') return forwardIm2col(engine, x, w, bias, g);
  const y = engine.empty([g.N, g.O, g.Ho, g.Wo]);
  if (y.size === 0) return y;
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = (g.Ho - 1) * g.sh + (g.KH - 1) * g.dh + 1;
  const Q8 = round8(g.Wo);
  const xs = shiftPad(engine, x, { N: g.N, Ct: g.C, Hs: g.H, Ws: g.W, R, Q8, KW: g.KW, sw: g.sw, dw: g.dw, up_y: 1, up_x: 1, off_y: g.ph, off_x: g.pw });
  const wt = weightLayout(engine, w, g.groups, Cg, Og, g.KH, g.KW, false);
  convCore(engine, {
    entry: 'conv2d_fwd',
    xs,
    wt,
    bias,
    out: y,
    N: g.N,
    Ct: g.C,
    R,
    Q8,
    KH: g.KH,
    KW: g.KW,
    groups: g.groups,
    Cg,
    Og,
    Ot: g.O,
    Ho: g.Ho,
    Wo: g.Wo,
    sh: g.sh,
    dh: g.dh,
  });
  xs.dispose();
  wt.dispose();
  return y;
}

/** dx = ∂(Σ dy ⊙ conv2d(x, w))/∂x for an input of shape xShape (a transposed convolution). */
export function conv2dGradInputRaw(dy: Tensor, w: Tensor, xShape: readonly number[], o: Conv2dOptions = {}, impl: Conv2dImpl = {}): Tensor {
  assertF32('conv2d backward (input)', dy, w);
  const engine = sameEngine('conv2d backward (input)', dy, w);
  const g = conv2dShape(xShape, w.shape, o, 'conv2d backward (input)');
  checkDy(dy, g);
  if (g.N * g.C * g.H * g.W > 0 && choosePath(engine, g, 'grad-input', impl) === 'im2col') return gradInputIm2col(engine, dy, w, g);
  const dx = engine.empty([g.N, g.C, g.H, g.W]);
  if (dx.size === 0) return dx;
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = g.H + g.dh * (g.KH - 1);
  const Q8 = round8(g.W);
  const xs = shiftPad(engine, dy, {
    N: g.N,
    Ct: g.O,
    Hs: g.Ho,
    Ws: g.Wo,
    R,
    Q8,
    KW: g.KW,
    sw: 1,
    dw: g.dw,
    up_y: g.sh,
    up_x: g.sw,
    off_y: g.dh * (g.KH - 1) - g.ph,
    off_x: g.dw * (g.KW - 1) - g.pw,
  });
  const wt = weightLayout(engine, w, g.groups, Og, Cg, g.KH, g.KW, true);
  convCore(engine, {
    entry: 'conv2d_bwd_input',
    xs,
    wt,
    bias: null,
    out: dx,
    N: g.N,
    Ct: g.O,
    R,
    Q8,
    KH: g.KH,
    KW: g.KW,
    groups: g.groups,
    Cg: Og,
    Og: Cg,
    Ot: g.C,
    Ho: g.H,
    Wo: g.W,
    sh: 1,
    dh: g.dh,
  });
  xs.dispose();
  wt.dispose();
  return dx;
}

/** dW = ∂(Σ dy ⊙ conv2d(x, w))/∂w for a weight of shape wShape. */
export function conv2dGradWeightRaw(x: Tensor, dy: Tensor, wShape: readonly number[], o: Conv2dOptions = {}, impl: Conv2dImpl = {}): Tensor {
  assertF32('conv2d backward (weight)', x, dy);
  const engine = sameEngine('conv2d backward (weight)', x, dy);
  const g = conv2dShape(x.shape, wShape, o, 'conv2d backward (weight)');
  checkDy(dy, g);
  const path = dy.size > 0 && x.size > 0 && g.O > 0 ? choosePath(engine, g, 'grad-weight', impl) : 'direct';
  if (path === 'im2col') return gradWeightIm2col(engine, x, dy, g, wShape);
  const dw = engine.empty([...wShape]);
  if (dw.size === 0) return dw;
  if (dy.size === 0 || x.size === 0) return fill0(engine, dw);
  if (path === 'splitk') {
    gradWeightSplitK(engine, x, dy, g, dw, impl.splitK);
    return dw;
  }
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = (g.Ho - 1) * g.sh + (g.KH - 1) * g.dh + 1;
  const Q8 = round8(g.Wo);
  const xs = shiftPad(engine, x, { N: g.N, Ct: g.C, Hs: g.H, Ws: g.W, R, Q8, KW: g.KW, sw: g.sw, dw: g.dw, up_y: 1, up_x: 1, off_y: g.ph, off_x: g.pw });
  const dyp = shiftPad(engine, dy, { N: g.N, Ct: g.O, Hs: g.Ho, Ws: g.Wo, R: g.Ho, Q8, KW: 1, sw: 1, dw: 0, up_y: 1, up_x: 1, off_y: 0, off_x: 0 });
  const OQ = ceil4(Og);
  const JQ = ceil4(Cg * g.KH * g.KW);
  const total = g.groups * OQ * JQ;
  engine.run('conv2d', 'conv2d_bwd_weight', {
    bind: { dy4: dyp, xs4: xs, dst: dw },
    params: { N: g.N, Ct: g.C, R, Q8, KH: g.KH, KW: g.KW, groups: g.groups, Cg, Og, OQ, Ot: g.O, Ho: g.Ho, sh: g.sh, dh: g.dh, JQ, total },
    workgroups: Math.ceil(total / WG),
  });
  xs.dispose();
  dyp.dispose();
  return dw;
}

// ---- split-K grad-weight path (kernels/conv2d_grad_weight.wgsl) ---------

/** Reduction values per tile step of conv2d_gw_partial (its TK). */
const GW_TK = 16;
/** Workgroups conv2d_gw_partial aims for (a few per compute unit on large GPUs, e.g. 132 SMs on an H100). */
const GW_TARGET_WORKGROUPS = 4096;
/** Shortest chunk: 4 tile steps (64 values), so each workgroup's loads amortise its TM·TN partial store. */
const GW_MIN_CHUNK = 4 * GW_TK;
/** Most chunks (bounds the loop of conv2d_gw_sum to S/8 loads per invocation, 4 in flight). */
const GW_MAX_CHUNKS = 1024;
/** Most floats in the partial buffer [S, O, CK] (64 MiB). */
const GW_MAX_PARTIAL = 16 << 20;

/** Tile edge for an axis of `n` items: 16, 32 or 64 (the TM / TN overrides). */
const gwTile = (n: number) => (n <= 16 ? 16 : n <= 32 ? 32 : 64);

/** The geometry of one split-K grad-weight call (exported for tests and benchmarks). */
export interface SplitKPlan {
  TM: number;
  TN: number;
  /** Workgroups per chunk: ⌈CK/TN⌉ × groups·⌈Og/TM⌉. */
  tiles: number;
  /** Reduction length N·Ho·Wo. */
  K: number;
  /** Chunks of the reduction and values per chunk (a multiple of 16; the last chunk may be shorter). */
  S: number;
  chunk: number;
}

/**
 * Chunking of the reduction axis: enough chunks that tiles × S reaches
 * GW_TARGET_WORKGROUPS, but chunks of at least GW_MIN_CHUNK values, at most
 * GW_MAX_CHUNKS chunks and a partial buffer of at most GW_MAX_PARTIAL floats
 * (and the binding limit). `want` (tests) asks for a chunk count instead of
 * the target, still clamped to [1, ⌈K/16⌉] and the buffer limits.
 */
export function splitKPlan(g: Conv2dShape, maxBindingBytes = Infinity, want?: number): SplitKPlan {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const K = g.N * g.Ho * g.Wo;
  const TM = gwTile(Og);
  const TN = gwTile(CK);
  const tiles = Math.ceil(CK / TN) * g.groups * Math.ceil(Og / TM);
  const T = g.O * CK;
  let S: number;
  if (want !== undefined) {
    S = Math.min(Math.max(1, Math.floor(want)), Math.ceil(K / GW_TK));
  } else {
    S = Math.ceil(GW_TARGET_WORKGROUPS / tiles);
    S = Math.min(S, Math.floor(K / GW_MIN_CHUNK), GW_MAX_CHUNKS);
  }
  S = Math.max(1, Math.min(S, Math.floor(Math.min(GW_MAX_PARTIAL, maxBindingBytes / 4) / T)));
  const chunk = Math.ceil(K / S / GW_TK) * GW_TK;
  return { TM, TN, tiles, K, S: Math.ceil(K / chunk), chunk };
}

/** Whether the split-K grids fit the adapter (y = groups·⌈Og/TM⌉, x = ⌈CK/TN⌉). */
function splitKFits(engine: Engine, g: Conv2dShape): boolean {
  const P = splitKPlan(g, engine.limits.maxStorageBufferBindingSize);
  const Cg = g.C / g.groups;
  const maxDim = engine.limits.maxComputeWorkgroupsPerDimension;
  const y = g.groups * Math.ceil(g.O / g.groups / P.TM);
  const xw = Math.ceil((Cg * g.KH * g.KW) / P.TN);
  return y <= maxDim && xw <= maxDim && P.S <= maxDim && g.O * Cg * g.KH * g.KW * 4 <= engine.limits.maxStorageBufferBindingSize;
}

/**
 * dW by split-K (kernels/conv2d_grad_weight.wgsl): conv2d_gw_partial writes
 * part [S, O, CK] (or dW itself when S = 1), conv2d_gw_sum adds the S partials
 * in a fixed order. Any groups, stride, padding, dilation.
 */
function gradWeightSplitK(engine: Engine, x: Tensor, dy: Tensor, g: Conv2dShape, dw: Tensor, want?: number): void {
  const P = splitKPlan(g, engine.limits.maxStorageBufferBindingSize, want);
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const T = g.O * CK;
  const params = {
    N: g.N,
    C: g.C,
    H: g.H,
    W: g.W,
    O: g.O,
    KH: g.KH,
    KW: g.KW,
    sh: g.sh,
    sw: g.sw,
    ph: g.ph,
    pw: g.pw,
    dh: g.dh,
    dw: g.dw,
    Ho: g.Ho,
    Wo: g.Wo,
    Cg,
    Og,
    CK,
    K: P.K,
    chunk: P.chunk,
    S: P.S,
    T,
  };
  const part = P.S === 1 ? dw : engine.empty([P.S, T], 'f32', 'conv2d.gw_part');
  engine.run('conv2d_grad_weight', 'conv2d_gw_partial', {
    bind: { x, dy, dst: part },
    params,
    constants: { TM: P.TM, TN: P.TN },
    workgroups: [Math.ceil(CK / P.TN), g.groups * Math.ceil(Og / P.TM), P.S],
  });
  if (P.S === 1) return;
  engine.run('conv2d_grad_weight', 'conv2d_gw_sum', { bind: { part, dst: dw }, params, workgroups: Math.ceil(T / 32) });
  part.dispose();
}

// ---- im2col path (kernels/im2col.wgsl + matmulRaw) ----------------------

/**
 * Which implementation a pass uses; 'auto' (the default) applies `choosePath`.
 * 'splitk' is the GPU configuration: split-K grad-weight
 * (kernels/conv2d_grad_weight.wgsl), direct forward and grad-input.
 */
export type Conv2dPath = 'auto' | 'im2col' | 'direct' | 'splitk';

/** Internal launcher option (tests, benchmarks): force one implementation. */
export interface Conv2dImpl {
  path?: Conv2dPath;
  /** split-K grad-weight only: ask for this many chunks instead of the shape-derived count. */
  splitK?: number;
}

let forcedPath: Conv2dPath = 'auto';

/**
 * Internal (tests, benchmarks): force the path of every conv2d call that does
 * not pass its own `impl.path`, including those made by the backward rule.
 * Returns the previous setting.
 */
export function _setConv2dPath(path: Conv2dPath): Conv2dPath {
  const prev = forcedPath;
  forcedPath = path;
  return prev;
}

export type Conv2dPass = 'forward' | 'grad-input' | 'grad-weight';
type Pass = Conv2dPass;

const r4 = (n: number) => Math.ceil(n / 4) * 4;

/** Whether the adapter has exactly 8-lane subgroups (matmulRaw then uses matmul_sg). */
function hasSubgroup8(engine: Engine): boolean {
  if (!engine.features.has('subgroups')) return false;
  const info = engine.ctx.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  return info?.subgroupMinSize === 8 && info.subgroupMaxSize === 8;
}

/** Whether every im2col-path buffer and grid of this pass fits the adapter's limits. */
function im2colFits(engine: Engine, g: Conv2dShape, pass: Pass): boolean {
  if (g.groups !== 1) return false;
  const CKp = r4(g.C * g.KH * g.KW);
  const HWp = r4(g.Ho * g.Wo);
  const Op = r4(g.O);
  const maxBind = engine.limits.maxStorageBufferBindingSize;
  const maxDim = engine.limits.maxComputeWorkgroupsPerDimension;
  let bytes: number[];
  let dims: number[];
  if (pass === 'grad-weight') {
    const Kp = r4(g.N * g.Ho * g.Wo);
    bytes = [Kp * CKp, g.O * Kp, g.O * CKp];
    dims = [Math.ceil(Kp / 64), g.C, CKp, g.O, Math.ceil(Kp / 256)];
  } else {
    const CKt = r4(g.O * g.KH * g.KW); // grad-input as a conv of dy
    const HWx = r4(g.H * g.W);
    bytes = [g.N * CKp * HWp, g.N * Op * HWp, Op * CKp, g.N * CKt * HWx, g.C * CKt, g.N * g.C * HWx];
    dims = [CKp, CKt, g.N, g.C, g.O, Math.ceil(HWp / 64), Math.ceil(HWx / 64), Math.ceil((g.H * g.W) / 16)];
  }
  return bytes.every((b) => b * 4 <= maxBind) && dims.every((d) => d <= maxDim);
}

/**
 * The decision behind `choosePath`, as a pure function of the adapter facts
 * (exported for tests: it shows what a GPU without 8-lane subgroups runs).
 * 'auto': on adapters with 8-lane subgroups (lavapipe) im2col + matmul_sg when
 * groups = 1 and the buffers fit, otherwise direct; on other adapters (GPUs)
 * direct forward and grad-input, split-K grad-weight. Forced 'im2col' falls
 * back to direct where it does not fit; forced 'splitk' means the GPU choice.
 * (docs/kernels/conv2d.md has the measurements behind the rule.)
 */
export function decideConv2dPath(
  pass: Pass,
  want: Conv2dPath,
  a: { subgroup8: boolean; im2colFits: boolean; splitKFits: boolean },
): 'im2col' | 'direct' | 'splitk' {
  const splitk = pass === 'grad-weight' && a.splitKFits ? 'splitk' : 'direct';
  if (want === 'direct') return 'direct';
  if (want === 'splitk') return splitk;
  if (want === 'im2col') return a.im2colFits ? 'im2col' : 'direct';
  if (a.subgroup8) return a.im2colFits ? 'im2col' : 'direct';
  return splitk;
}

function choosePath(engine: Engine, g: Conv2dShape, pass: Pass, impl: Conv2dImpl): 'im2col' | 'direct' | 'splitk' {
  const want = impl.path && impl.path !== 'auto' ? impl.path : forcedPath;
  return decideConv2dPath(pass, want, {
    subgroup8: hasSubgroup8(engine),
    im2colFits: im2colFits(engine, g, pass),
    splitKFits: pass === 'grad-weight' && splitKFits(engine, g),
  });
}

/** The geometry fields of kernels/im2col.wgsl's Params. */
function colParams(g: Conv2dShape) {
  const CK = g.C * g.KH * g.KW;
  const HW = g.Ho * g.Wo;
  return {
    N: g.N,
    C: g.C,
    H: g.H,
    W: g.W,
    KH: g.KH,
    KW: g.KW,
    sh: g.sh,
    sw: g.sw,
    ph: g.ph,
    pw: g.pw,
    dh: g.dh,
    dw: g.dw,
    Ho: g.Ho,
    Wo: g.Wo,
    CK,
    CKp: r4(CK),
    HW,
    HWp: r4(HW),
    O: g.O,
  };
}

/**
 * src [A, Ri_s, cols_s] → [A, Ri_d, cols_d]: pads with zeros / crops the last
 * two dims, adding bias[b] to row b when given. `src` is not consumed.
 */
function repad(
  engine: Engine,
  src: Tensor,
  A: number,
  Ri_s: number,
  cols_s: number,
  Ri_d: number,
  cols_d: number,
  bias: Tensor | null,
  shape?: readonly number[],
): Tensor {
  const dst = engine.empty(shape ?? [A, Ri_d, cols_d], 'f32', 'conv2d.repad');
  const total = A * Ri_d * cols_d;
  if (total > 0) {
    engine.run('im2col', 'repad', {
      bind: { src, bias: bias ?? engine.placeholder(), dst },
      params: { total, Ri_s, Ri_d, cols_s, cols_d },
      constants: { HAS_BIAS: bias ? 1 : 0, WG: 256 },
      workgroups: Math.ceil(total / 256),
    });
  }
  return dst;
}

/** Workgroup size along a 1-D axis of `n` items: 64, or 16 for short axes (fewer idle lanes). */
const wgFor = (n: number) => (n >= 48 ? 64 : 16);

/**
 * col[z][k][q] (kernels/im2col.wgsl `im2col` + `col_zero` for the padding rows):
 * `images` = 1 gives the forward layout [N, CKp, HWp] (z = n), `images` = N
 * the batch-folded [CKp, Kp] (q = n·HW + p).
 */
function im2col(engine: Engine, x: Tensor, g: Conv2dShape, P: ReturnType<typeof colParams>, batchFolded: boolean): Tensor {
  const Lp = batchFolded ? r4(g.N * P.HW) : P.HWp;
  const Lv = batchFolded ? g.N * P.HW : P.HW;
  const Z = batchFolded ? 1 : g.N;
  const col = engine.empty(batchFolded ? [P.CKp, Lp] : [g.N, P.CKp, Lp], 'f32', 'conv2d.col');
  const q = Lp / 4;
  const WGx = wgFor(q);
  const params = { ...P, Lp, Lv };
  engine.run('im2col', 'im2col', { bind: { src: x, dst4: col }, params, constants: { WG: WGx }, workgroups: [Math.ceil(q / WGx), g.C, Z] });
  if (P.CKp > P.CK) {
    engine.run('im2col', 'col_zero', { bind: { dst4: col }, params, constants: { WG: WGx }, workgroups: [Math.ceil(q / WGx), P.CKp - P.CK, Z] });
  }
  return col;
}

/** y[n] = W[O, CKp] · col[n][CKp, HWp] (matmul_sg, W broadcast over the batch), then crop + bias. */
function forwardIm2col(engine: Engine, x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dShape): Tensor {
  const P = colParams(g);
  const wm = P.CKp === P.CK ? engine._view(w, [g.O, P.CK]) : repad(engine, w, 1, g.O, P.CK, g.O, P.CKp, null, [g.O, P.CKp]);
  const y = convIm2col(engine, x, wm, bias, g);
  wm.dispose();
  return y;
}

/** The forward GEMM with a prepared weight matrix wm [O, CKp]. */
function convIm2col(engine: Engine, x: Tensor, wm: Tensor, bias: Tensor | null, g: Conv2dShape): Tensor {
  const P = colParams(g);
  const col = im2col(engine, x, g, P, false);
  const ym = matmulRaw(wm, col); // [N, O, HWp]
  col.dispose();
  if (P.HWp === P.HW && !bias) return engine._viewOwned(ym, [g.N, g.O, g.Ho, g.Wo]);
  const y = repad(engine, ym, g.N, g.O, P.HWp, g.O, P.HW, bias, [g.N, g.O, g.Ho, g.Wo]);
  ym.dispose();
  return y;
}

/**
 * For stride 1 (and d·(K − 1) ≥ p, so the padding stays ≥ 0) dx is the plain
 * convolution of dy with the flipped, channel-swapped weight, padding
 * d·(K − 1) − p: one im2col of dy and one matmul with k = O·KH·KW — cheaper
 * than the Wᵀ·dy GEMM (k = O only) plus the col2im gather.
 */
function gradInputAsConv(engine: Engine, dy: Tensor, w: Tensor, g: Conv2dShape): Tensor {
  const gt: Conv2dShape = {
    N: g.N,
    C: g.O,
    H: g.Ho,
    W: g.Wo,
    O: g.C,
    KH: g.KH,
    KW: g.KW,
    sh: 1,
    sw: 1,
    ph: g.dh * (g.KH - 1) - g.ph,
    pw: g.dw * (g.KW - 1) - g.pw,
    dh: g.dh,
    dw: g.dw,
    groups: 1,
    Ho: g.H,
    Wo: g.W,
  };
  const CK = g.O * g.KH * g.KW;
  const CKp = r4(CK);
  const wf = engine.empty([g.C, CKp], 'f32', 'conv2d.wflip');
  engine.run('im2col', 'w_flip', {
    bind: { src: w, dst: wf },
    params: { C: g.C, KH: g.KH, KW: g.KW, CK, CKp, total: g.C * CKp },
    constants: { WG: 64 },
    workgroups: Math.ceil((g.C * CKp) / 64),
  });
  const dx = convIm2col(engine, dy, wf, null, gt);
  wf.dispose();
  return dx;
}

/** Whether gradInputAsConv applies (stride 1, non-negative transposed padding). */
const transposedAsConv = (g: Conv2dShape) => g.sh === 1 && g.sw === 1 && g.dh * (g.KH - 1) >= g.ph && g.dw * (g.KW - 1) >= g.pw;

/** dcol[n] = Wᵀ[CKp, Op] · dy[n][Op, HWp] (matmul_sg, transposed A), then the col2im gather. */
function gradInputIm2col(engine: Engine, dy: Tensor, w: Tensor, g: Conv2dShape): Tensor {
  if (transposedAsConv(g)) return gradInputAsConv(engine, dy, w, g);
  const P = colParams(g);
  const Op = r4(g.O);
  const wm = P.CKp === P.CK && Op === g.O ? engine._view(w, [g.O, P.CK]) : repad(engine, w, 1, g.O, P.CK, Op, P.CKp, null, [Op, P.CKp]);
  const dym = P.HWp === P.HW && Op === g.O ? engine._view(dy, [g.N, g.O, P.HW]) : repad(engine, dy, g.N, g.O, P.HW, Op, P.HWp, null);
  const dcol = matmulRaw(wm, dym, { transA: true }); // [N, CKp, HWp]
  wm.dispose();
  dym.dispose();
  const dx = engine.empty([g.N, g.C, g.H, g.W]);
  const WGx = wgFor(g.H * g.W);
  engine.run('im2col', 'col2im', {
    bind: { src: dcol, dst: dx },
    params: P,
    constants: { WG: WGx, SH: g.sh, SW: g.sw },
    workgroups: [Math.ceil((g.H * g.W) / WGx), g.C, g.N],
  });
  dcol.dispose();
  return dx;
}

/**
 * dW[O, CKp] = dyt[O, Kp] · colᵀ with col [CKp, Kp], Kp = ⌈N·HW⌉₄ (one
 * matmul_sg NT, the batch folded into k), then crop. (An NN variant over a
 * transposed colT [Kp, CKp] measured no faster: its scalar stores cost more
 * than the NT loads save; docs/kernels/conv2d.md.)
 */
function gradWeightIm2col(engine: Engine, x: Tensor, dy: Tensor, g: Conv2dShape, wShape: readonly number[]): Tensor {
  const P = colParams(g);
  const Kp = r4(g.N * P.HW);
  const dyt = engine.empty([g.O, Kp], 'f32', 'conv2d.dyt');
  engine.run('im2col', 'dy_t', { bind: { src: dy, dst4: dyt }, params: { ...P, Lp: Kp }, constants: { WG: 64 }, workgroups: [Math.ceil(Kp / 256), g.O, 1] });
  const col = im2col(engine, x, g, P, true); // [CKp, Kp]
  const dwm = matmulRaw(dyt, col, { transB: true }); // [O, CKp]
  col.dispose();
  dyt.dispose();
  if (P.CKp === P.CK) return engine._viewOwned(dwm, [...wShape]);
  const dw = repad(engine, dwm, 1, g.O, P.CKp, g.O, P.CK, null, [...wShape]);
  dwm.dispose();
  return dw;
}

/** dbias[o] = Σ_{n, y, x} dy[n, o, y, x]. */
export function conv2dGradBiasRaw(dy: Tensor): Tensor {
  assertF32('conv2d backward (bias)', dy);
  if (dy.ndim !== 4) throw new ShapeError(`conv2d backward (bias): dy must be 4-D, got ${fmtShape(dy.shape)}`);
  const [N, O, Ho, Wo] = dy.shape as [number, number, number, number];
  const db = dy.engine.empty([O]);
  if (O === 0) return db;
  dy.engine.run('conv2d', 'conv2d_bwd_bias', { bind: { src: dy, dst: db }, params: { N, Ot: O, HWo: Ho * Wo }, workgroups: O });
  return db;
}

function checkDy(dy: Tensor, g: Conv2dShape): void {
  const want = [g.N, g.O, g.Ho, g.Wo];
  if (dy.ndim !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`conv2d backward: output gradient ${fmtShape(dy.shape)} does not match the output shape ${fmtShape(want)}`);
  }
}

/**
 * conv2d(x, w, bias, {stride, padding, dilation, groups}) as torch.nn.functional.conv2d.
 * x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or null → [N, O, Ho, Wo].
 */
export function conv2d(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  o: { stride?: number | [number, number]; padding?: number | [number, number]; dilation?: number | [number, number]; groups?: number } = {},
): Tensor {
  const y = conv2dForwardRaw(x, w, bias, o);
  const opts: Conv2dOptions = { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups };
  return record(y, 'conv2d', [x, w, bias], [x, w], { opts, xShape: x.shape, wShape: w.shape });
}

export function conv2dBackward(node: GraphNode<'conv2d'>, g: Tensor): (Tensor | null)[] {
  const { opts, xShape, wShape } = node.attrs;
  const [x, w] = node.saved;
  const [xIn, wIn, bIn] = node.inputs;
  const dx = xIn?.requiresGrad ? conv2dGradInputRaw(g, w, xShape, opts) : null;
  const dw = wIn?.requiresGrad ? conv2dGradWeightRaw(x, g, wShape, opts) : null;
  const db = bIn?.requiresGrad ? conv2dGradBiasRaw(g) : null;
  return [dx, dw, db];
}

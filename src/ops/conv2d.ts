/**
 * 2-D convolution, PyTorch semantics and layouts: x [N, C, H, W],
 * w [O, C/groups, KH, KW], bias [O] → y [N, O, Ho, Wo]. Any kernel size,
 * stride, padding, dilation and groups (depthwise included).
 *
 * This file is the op: options, shape checks, the raw launchers of each pass,
 * the autograd record and backward rule. Each pass runs one of the paths:
 *  - src/ops/conv2d-im2col.ts  im2col re-layouts + matmul_sg (8-lane subgroups, groups = 1);
 *  - src/ops/conv2d-direct.ts  implicit GEMMs over re-laid operands (any case, the fallback);
 *  - src/ops/conv2d-split-k.ts split-K grad-weight (GPUs);
 *  - src/ops/conv2d-igemm.ts   workgroup-tiled implicit GEMMs (GPUs, chosen by measurement).
 * Which one is the autotuner's choice (src/ops/conv2d-tuning.ts), whose
 * static rule is src/ops/conv2d-path.ts; each path is a list of dispatches
 * (src/ops/conv2d-steps.ts, src/ops/dispatch-list.ts) that the op runs and
 * the tuner times.
 * The backward rule computes only the gradients whose inputs require them.
 * A weight or bias that is a leaf with a `.grad` (a parameter mid-step) gets
 * its gradient added in place by the dispatch that finishes it, in the fused
 * kernel forms (src/autograd/leaf-grad.ts): the grad-weight path's one
 * dispatch that writes 'out' takes its kernel's ACCUMULATE flag (or the
 * matmul epilogue), added by the op to whatever configuration the tuner
 * chose (`withAccumulatedOutput`, src/ops/dispatch-list.ts), `conv2d_bwd_bias` the
 * same flag on its single write; the rule then returns null for it.
 */
import { gradTarget } from '../autograd/leaf-grad.js';
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { ShapeError } from '../device/errors.js';
import type { Engine } from '../engine.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import type { TuneConfig } from '../tune/types.js';
import type { Conv2dPass, Conv2dPathRequest } from './conv2d-path.js';
import type { Conv2dBuffer } from './conv2d-steps.js';
import { conv2dChoice, conv2dSteps } from './conv2d-tuning.js';
import { runDispatchList, withAccumulatedOutput } from './dispatch-list.js';
import { accumulateInto } from './elementwise.js';
import { kernelForms } from './kernel-forms.js';
import { fillWith } from './creation.js';
import { assertF32, sameEngine } from './launch.js';

// Re-exported: bench/scratch/gw-plans.ts imports splitKPlan from here; tests and benchmarks the family.
export { splitKPlan, type SplitKPlan } from './conv2d-split-k.js';
export type { Conv2dPass, Conv2dPath, Conv2dPathRequest } from './conv2d-path.js';
export { CONV2D_TUNING, type Conv2dProblem } from './conv2d-tuning.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    conv2d: { attrs: { opts: Conv2dOptions; xShape: readonly number[]; wShape: readonly number[] }; saved: [x: Tensor, w: Tensor] };
  }
}

/** Which implementation runs (tests, benchmarks); without it, the autotuner's choice (src/ops/conv2d-tuning.ts). */
export interface Conv2dImpl {
  /** A path ('igemm': its first candidate configuration for the shape). */
  path?: Conv2dPathRequest | 'igemm';
  /** A full configuration of the conv2d tuning family (e.g. one igemm tile); takes precedence over `path`. */
  config?: TuneConfig;
  /** split-K grad-weight only: ask for this many chunks instead of the shape-derived count. */
  splitK?: number;
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  /** Internal (tests, benchmarks): force an implementation; the backward rule uses it too. */
  impl?: Conv2dImpl;
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

function checkDy(dy: Tensor, g: Conv2dShape): void {
  const want = [g.N, g.O, g.Ho, g.Wo];
  if (dy.ndim !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`conv2d backward: output gradient ${fmtShape(dy.shape)} does not match the output shape ${fmtShape(want)}`);
  }
}

/**
 * Runs one pass into a new tensor of `shape`, or added into `into` (its
 * dispatch that writes 'out' accumulates; the tuned configuration is the
 * same, the flag is not part of the problem): the configuration the request
 * or the tuner picks, its steps on the operands in `io` (its temporaries
 * released after the last step).
 */
function runPass(
  engine: Engine,
  g: Conv2dShape,
  pass: Conv2dPass,
  o: Conv2dOptions,
  io: Partial<Record<Conv2dBuffer, Tensor>>,
  shape: readonly number[],
  into: Tensor | null = null,
): Tensor {
  const p = { pass, g, bias: !!io.bias };
  const { config } = conv2dChoice(engine, p, o.impl);
  const out = into ?? engine.empty([...shape]);
  const planned = conv2dSteps(engine, p, config, o.impl?.splitK);
  const steps = into ? withAccumulatedOutput(planned.steps, 'out', `conv2d ${pass}`) : planned.steps;
  for (const t of runDispatchList(engine, steps, { ...io, out }, planned.temps, 'conv2d')) t.dispose();
  return out;
}

/** The forward launcher (no autograd): y = conv2d(x, w) + bias. */
export function conv2dForwardRaw(x: Tensor, w: Tensor, bias: Tensor | null, o: Conv2dOptions = {}): Tensor {
  assertF32('conv2d', x, w, ...(bias ? [bias] : []));
  const engine = sameEngine('conv2d', x, w, ...(bias ? [bias] : []));
  const g = conv2dShape(x.shape, w.shape, o);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== g.O)) {
    throw new ShapeError(`conv2d: bias must have shape [${g.O}] for weight ${fmtShape(w.shape)}, got ${fmtShape(bias.shape)}`);
  }
  const shape = [g.N, g.O, g.Ho, g.Wo];
  if (g.N * g.O * g.Ho * g.Wo === 0) return engine.empty(shape);
  return runPass(engine, g, 'forward', o, bias ? { x, w, bias } : { x, w }, shape);
}

/** dx = ∂(Σ dy ⊙ conv2d(x, w))/∂x for an input of shape xShape (a transposed convolution). */
export function conv2dGradInputRaw(dy: Tensor, w: Tensor, xShape: readonly number[], o: Conv2dOptions = {}): Tensor {
  assertF32('conv2d backward (input)', dy, w);
  const engine = sameEngine('conv2d backward (input)', dy, w);
  const g = conv2dShape(xShape, w.shape, o, 'conv2d backward (input)');
  checkDy(dy, g);
  const shape = [g.N, g.C, g.H, g.W];
  if (g.N * g.C * g.H * g.W === 0) return engine.empty(shape);
  return runPass(engine, g, 'grad-input', o, { dy, w }, shape);
}

/**
 * dW = ∂(Σ dy ⊙ conv2d(x, w))/∂w for a weight of shape wShape; with `into`,
 * added to it in place (the dispatch that writes dW accumulates) and `into`
 * returned — bit for bit dW then accumulateInto(into, dW).
 */
export function conv2dGradWeightRaw(x: Tensor, dy: Tensor, wShape: readonly number[], o: Conv2dOptions = {}, into: Tensor | null = null): Tensor {
  assertF32('conv2d backward (weight)', x, dy);
  const engine = sameEngine('conv2d backward (weight)', x, dy);
  const g = conv2dShape(x.shape, wShape, o, 'conv2d backward (weight)');
  checkDy(dy, g);
  const n = wShape.reduce((a, b) => a * b, 1);
  if (into && into.size !== n) throw new ShapeError(`conv2d backward (weight): cannot accumulate dW ${fmtShape(wShape)} into ${fmtShape(into.shape)}`);
  if (n === 0) return into ?? engine.empty([...wShape]);
  if (dy.size === 0 || x.size === 0) {
    const z = fillWith(engine.empty([...wShape]), 0);
    if (!into) return z;
    // Zeros, added as the separate add would (−0 + 0 is +0).
    accumulateInto(into, z);
    z.dispose();
    return into;
  }
  return runPass(engine, g, 'grad-weight', o, { x, dy }, wShape, into);
}

/** dbias[o] = Σ_{n, y, x} dy[n, o, y, x]; with `into`, added to it in place (ACCUMULATE) and `into` returned. */
export function conv2dGradBiasRaw(dy: Tensor, into: Tensor | null = null): Tensor {
  assertF32('conv2d backward (bias)', dy);
  if (dy.ndim !== 4) throw new ShapeError(`conv2d backward (bias): dy must be 4-D, got ${fmtShape(dy.shape)}`);
  const [N, O, Ho, Wo] = dy.shape as [number, number, number, number];
  if (into && into.size !== O) throw new ShapeError(`conv2d backward (bias): cannot accumulate dbias [${O}] into ${fmtShape(into.shape)}`);
  const db = into ?? dy.engine.empty([O]);
  if (O === 0) return db;
  dy.engine.run('conv2d', 'conv2d_bwd_bias', {
    bind: { src: dy, dst: db },
    params: { N, Ot: O, HWo: Ho * Wo },
    constants: { ACCUMULATE: into ? 1 : 0 },
    workgroups: O,
  });
  return db;
}

/**
 * conv2d(x, w, bias, {stride, padding, dilation, groups}) as torch.nn.functional.conv2d.
 * x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or null → [N, O, Ho, Wo].
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, o: Conv2dOptions = {}): Tensor {
  const y = conv2dForwardRaw(x, w, bias, o);
  const opts: Conv2dOptions = { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups, ...(o.impl ? { impl: o.impl } : {}) };
  return record(y, 'conv2d', [x, w, bias], [x, w], { opts, xShape: x.shape, wShape: w.shape });
}

/**
 * dx, dW, dbias — each only where its input requires grad. A weight or bias
 * that is a leaf with a `.grad` gets its gradient added in place (gradTarget,
 * fused kernel forms) and null is returned for it.
 */
export function conv2dBackward(node: GraphNode<'conv2d'>, g: Tensor): (Tensor | null)[] {
  const { opts, xShape, wShape } = node.attrs;
  const [x, w] = node.saved;
  const [xIn, wIn, bIn] = node.inputs;
  const inPlace = kernelForms(g.engine).fused;
  const dx = xIn?.requiresGrad ? conv2dGradInputRaw(g, w, xShape, opts) : null;
  let dw: Tensor | null = null;
  if (wIn?.requiresGrad) {
    // (Not when x is the weight too: its dx, returned, must be added first, as the autograd would.)
    const into = wIn === xIn ? null : gradTarget(wIn, inPlace);
    dw = conv2dGradWeightRaw(x, g, wShape, opts, into);
    if (into) dw = null;
  }
  let db: Tensor | null = null;
  if (bIn?.requiresGrad) {
    const into = gradTarget(bIn, inPlace);
    db = conv2dGradBiasRaw(g, into);
    if (into) db = null;
  }
  return [dx, dw, db];
}

/**
 * The direct conv2d path (kernels/conv2d.wgsl): implicit GEMMs with register
 * blocking over re-laid operands. `shift_pad` lays the zero-padded input (or
 * the zero-inserted dy of the transposed conv) out so that every tap of 8
 * consecutive output columns is two aligned vec4s, `weight_layout` puts the
 * output channels innermost; the cores then need no bounds or padding checks.
 * Any groups, stride, padding, dilation, any adapter: the fallback of every
 * other path (docs/kernels/conv2d.md).
 */
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Conv2dShape } from './conv2d.js';
import { quadsOf, roundUpTo8 } from './conv2d-rounding.js';

const WG = 64; // the WGSL's default WG override

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
  const OQ = quadsOf(outer);
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
  const OQ = quadsOf(s.Og);
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

/** y = conv2d(x, w) + bias into `y` [N, O, Ho, Wo] (not empty). */
export function directForward(engine: Engine, x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dShape, y: Tensor): void {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = (g.Ho - 1) * g.sh + (g.KH - 1) * g.dh + 1;
  const Q8 = roundUpTo8(g.Wo);
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
}

/** dx = conv_transpose(dy, w) into `dx` [N, C, H, W] (not empty): the same core on shift_pad(dy), stride 1, flipped weights. */
export function directGradInput(engine: Engine, dy: Tensor, w: Tensor, g: Conv2dShape, dx: Tensor): void {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = g.H + g.dh * (g.KH - 1);
  const Q8 = roundUpTo8(g.W);
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
}

/** dW into `dw` (shape of w; x and dy not empty): conv2d_bwd_weight over shift_pad(x) and the column-padded dy. */
export function directGradWeight(engine: Engine, x: Tensor, dy: Tensor, g: Conv2dShape, dw: Tensor): void {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = (g.Ho - 1) * g.sh + (g.KH - 1) * g.dh + 1;
  const Q8 = roundUpTo8(g.Wo);
  const xs = shiftPad(engine, x, { N: g.N, Ct: g.C, Hs: g.H, Ws: g.W, R, Q8, KW: g.KW, sw: g.sw, dw: g.dw, up_y: 1, up_x: 1, off_y: g.ph, off_x: g.pw });
  const dyp = shiftPad(engine, dy, { N: g.N, Ct: g.O, Hs: g.Ho, Ws: g.Wo, R: g.Ho, Q8, KW: 1, sw: 1, dw: 0, up_y: 1, up_x: 1, off_y: 0, off_x: 0 });
  const OQ = quadsOf(Og);
  const JQ = quadsOf(Cg * g.KH * g.KW);
  const total = g.groups * OQ * JQ;
  engine.run('conv2d', 'conv2d_bwd_weight', {
    bind: { dy4: dyp, xs4: xs, dst: dw },
    params: { N: g.N, Ct: g.C, R, Q8, KH: g.KH, KW: g.KW, groups: g.groups, Cg, Og, OQ, Ot: g.O, Ho: g.Ho, sh: g.sh, dh: g.dh, JQ, total },
    workgroups: Math.ceil(total / WG),
  });
  xs.dispose();
  dyp.dispose();
}

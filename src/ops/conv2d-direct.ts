/**
 * The direct conv2d path (kernels/conv2d.wgsl): implicit GEMMs with register
 * blocking over re-laid operands. `shift_pad` lays the zero-padded input (or
 * the zero-inserted dy of the transposed conv) out so that every tap of 8
 * consecutive output columns is two aligned vec4s, `weight_layout` puts the
 * output channels innermost; the cores then need no bounds or padding checks.
 * Any groups, stride, padding, dilation, any adapter: the fallback of every
 * other path (docs/kernels/conv2d.md).
 */
import type { Conv2dShape } from './conv2d.js';
import type { Conv2dPass } from './conv2d-path.js';
import { quadsOf, roundUpTo8 } from './conv2d-rounding.js';
import type { Conv2dBuffer, Conv2dSteps } from './conv2d-steps.js';
import { PLACEHOLDER } from './dispatch-list.js';

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

/** xs[kx][n][c][r][q] = V(r, q·sw + kx·dw) into temporary `dst`, see kernels/conv2d.wgsl. */
function shiftPad(out: Conv2dSteps, src: Conv2dBuffer, dst: Conv2dBuffer, s: ShiftSpec): void {
  const planes = s.KW * s.N * s.Ct;
  out.temps[dst] = planes * s.R * s.Q8;
  if (planes * s.R * s.Q8 === 0) return;
  const y = Math.min(planes, 65535);
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d',
    entry: 'shift_pad',
    bind: { src, dst },
    params: { ...s, total: planes },
    workgroups: [Math.ceil((s.R * s.Q8) / WG), y, Math.ceil(planes / y)],
  });
}

/** wt[g][c][ky][kx][o4] into temporary 'wt' (outer = output channels of this pass, padded to 4). */
function weightLayout(out: Conv2dSteps, groups: number, inner: number, outer: number, KH: number, KW: number, flip: boolean): void {
  const OQ = quadsOf(outer);
  const total = groups * inner * KH * KW * OQ * 4;
  out.temps['wt'] = total;
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d',
    entry: 'weight_layout',
    bind: { src: 'w', dst: 'wt' },
    params: { groups, Cg: inner, Og: outer, OQ, KH, KW, total },
    constants: { FLIP: flip ? 1 : 0 },
    workgroups: Math.ceil(total / WG),
  });
}

interface CoreSpec {
  entry: 'conv2d_fwd' | 'conv2d_bwd_input';
  bias: Conv2dBuffer | typeof PLACEHOLDER;
  hasBias: boolean;
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

/** The conv core over 'xs' and 'wt' into 'out'. */
function convCore(out: Conv2dSteps, s: CoreSpec): void {
  const OQ = quadsOf(s.Og);
  const total = s.N * s.groups * s.Ho * (s.Q8 / 8) * OQ;
  if (total === 0) return;
  const { entry, bias, hasBias, ...geometry } = s;
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d',
    entry,
    bind: { xs4: 'xs', wt: 'wt', bias, dst: 'out' },
    params: { ...geometry, OQ, total },
    constants: { HAS_BIAS: hasBias ? 1 : 0 },
    workgroups: Math.ceil(total / WG),
  });
}

/** y = conv2d(x, w) + bias: shift_pad(x), weight_layout, conv2d_fwd. */
function forward(g: Conv2dShape, hasBias: boolean): Conv2dSteps {
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const R = (g.Ho - 1) * g.sh + (g.KH - 1) * g.dh + 1;
  const Q8 = roundUpTo8(g.Wo);
  shiftPad(out, 'x', 'xs', { N: g.N, Ct: g.C, Hs: g.H, Ws: g.W, R, Q8, KW: g.KW, sw: g.sw, dw: g.dw, up_y: 1, up_x: 1, off_y: g.ph, off_x: g.pw });
  weightLayout(out, g.groups, g.C / g.groups, g.O / g.groups, g.KH, g.KW, false);
  convCore(out, {
    entry: 'conv2d_fwd',
    bias: hasBias ? 'bias' : PLACEHOLDER,
    hasBias,
    N: g.N,
    Ct: g.C,
    R,
    Q8,
    KH: g.KH,
    KW: g.KW,
    groups: g.groups,
    Cg: g.C / g.groups,
    Og: g.O / g.groups,
    Ot: g.O,
    Ho: g.Ho,
    Wo: g.Wo,
    sh: g.sh,
    dh: g.dh,
  });
  return out;
}

/** dx = conv_transpose(dy, w): the same core on shift_pad(dy) (zero insertion, transposed padding), stride 1, flipped weights. */
function gradInput(g: Conv2dShape): Conv2dSteps {
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = g.H + g.dh * (g.KH - 1);
  const Q8 = roundUpTo8(g.W);
  shiftPad(out, 'dy', 'xs', {
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
  weightLayout(out, g.groups, Og, Cg, g.KH, g.KW, true);
  convCore(out, {
    entry: 'conv2d_bwd_input',
    bias: PLACEHOLDER,
    hasBias: false,
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
  return out;
}

/** dW: conv2d_bwd_weight over shift_pad(x) and the column-padded dy. */
function gradWeight(g: Conv2dShape): Conv2dSteps {
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const R = (g.Ho - 1) * g.sh + (g.KH - 1) * g.dh + 1;
  const Q8 = roundUpTo8(g.Wo);
  shiftPad(out, 'x', 'xs', { N: g.N, Ct: g.C, Hs: g.H, Ws: g.W, R, Q8, KW: g.KW, sw: g.sw, dw: g.dw, up_y: 1, up_x: 1, off_y: g.ph, off_x: g.pw });
  shiftPad(out, 'dy', 'dyp', { N: g.N, Ct: g.O, Hs: g.Ho, Ws: g.Wo, R: g.Ho, Q8, KW: 1, sw: 1, dw: 0, up_y: 1, up_x: 1, off_y: 0, off_x: 0 });
  const OQ = quadsOf(Og);
  const JQ = quadsOf(Cg * g.KH * g.KW);
  const total = g.groups * OQ * JQ;
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d',
    entry: 'conv2d_bwd_weight',
    bind: { dy4: 'dyp', xs4: 'xs', dst: 'out' },
    params: { N: g.N, Ct: g.C, R, Q8, KH: g.KH, KW: g.KW, groups: g.groups, Cg, Og, OQ, Ot: g.O, Ho: g.Ho, sh: g.sh, dh: g.dh, JQ, total },
    workgroups: Math.ceil(total / WG),
  });
  return out;
}

/** The direct path's steps for one pass (the output and, for grad-weight, x and dy not empty). */
export function directSteps(g: Conv2dShape, pass: Conv2dPass, hasBias: boolean): Conv2dSteps {
  return pass === 'forward' ? forward(g, hasBias) : pass === 'grad-input' ? gradInput(g) : gradWeight(g);
}

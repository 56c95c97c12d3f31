/**
 * The im2col conv2d path (kernels/im2col.wgsl + matmulRaw), for adapters with
 * 8-lane subgroups (lavapipe), where matmul_sg makes an explicit GEMM several
 * times faster than any direct kernel: the re-layouts below write the im2col
 * matrix (and its relatives) padded to multiples of 4, and one matmul does
 * the work. groups = 1 only. Every temporary is released in the call.
 */
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Conv2dShape } from './conv2d.js';
import type { Conv2dPass } from './conv2d-path.js';
import { roundUpTo4 } from './conv2d-rounding.js';
import { matmulRaw } from './matmul.js';

/** Whether every im2col-path buffer and grid of this pass fits the adapter's limits (and groups = 1). */
export function im2colFits(
  g: Conv2dShape,
  pass: Conv2dPass,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxComputeWorkgroupsPerDimension'>,
): boolean {
  if (g.groups !== 1) return false;
  const CKp = roundUpTo4(g.C * g.KH * g.KW);
  const HWp = roundUpTo4(g.Ho * g.Wo);
  const Op = roundUpTo4(g.O);
  const maxBind = limits.maxStorageBufferBindingSize;
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  let bytes: number[];
  let dims: number[];
  if (pass === 'grad-weight') {
    const Kp = roundUpTo4(g.N * g.Ho * g.Wo);
    bytes = [Kp * CKp, g.O * Kp, g.O * CKp];
    dims = [Math.ceil(Kp / 64), g.C, CKp, g.O, Math.ceil(Kp / 256)];
  } else {
    const CKt = roundUpTo4(g.O * g.KH * g.KW); // grad-input as a conv of dy
    const HWx = roundUpTo4(g.H * g.W);
    bytes = [g.N * CKp * HWp, g.N * Op * HWp, Op * CKp, g.N * CKt * HWx, g.C * CKt, g.N * g.C * HWx];
    dims = [CKp, CKt, g.N, g.C, g.O, Math.ceil(HWp / 64), Math.ceil(HWx / 64), Math.ceil((g.H * g.W) / 16)];
  }
  return bytes.every((b) => b * 4 <= maxBind) && dims.every((d) => d <= maxDim);
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
    CKp: roundUpTo4(CK),
    HW,
    HWp: roundUpTo4(HW),
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
  const Lp = batchFolded ? roundUpTo4(g.N * P.HW) : P.HWp;
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
export function im2colForward(engine: Engine, x: Tensor, w: Tensor, bias: Tensor | null, g: Conv2dShape): Tensor {
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
  const CKp = roundUpTo4(CK);
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
export function im2colGradInput(engine: Engine, dy: Tensor, w: Tensor, g: Conv2dShape): Tensor {
  if (transposedAsConv(g)) return gradInputAsConv(engine, dy, w, g);
  const P = colParams(g);
  const Op = roundUpTo4(g.O);
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
export function im2colGradWeight(engine: Engine, x: Tensor, dy: Tensor, g: Conv2dShape, wShape: readonly number[]): Tensor {
  const P = colParams(g);
  const Kp = roundUpTo4(g.N * P.HW);
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

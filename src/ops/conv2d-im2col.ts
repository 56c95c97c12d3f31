/**
 * The im2col conv2d path (kernels/im2col.wgsl + matmulRaw), for adapters with
 * 8-lane subgroups (lavapipe), where matmul_sg makes an explicit GEMM several
 * times faster than any direct kernel: the re-layouts below write the im2col
 * matrix (and its relatives) padded to multiples of 4, and one matmul does
 * the work. groups = 1 only.
 */
import type { Conv2dShape } from './conv2d.js';
import type { Conv2dPass } from './conv2d-path.js';
import { roundUpTo4 } from './conv2d-rounding.js';
import type { Conv2dBuffer, Conv2dSteps } from './conv2d-steps.js';
import { gemm, type KernelDispatch, PLACEHOLDER } from './dispatch-list.js';

/** Whether gradInputAsConv applies (stride 1, non-negative transposed padding). */
export const transposedAsConv = (g: Conv2dShape) => g.sh === 1 && g.sw === 1 && g.dh * (g.KH - 1) >= g.ph && g.dw * (g.KW - 1) >= g.pw;

/**
 * Where `transposedAsConv(g)`: the stride-1 convolution whose output is dx —
 * dy as its input, the flipped kernel with in/out channels swapped, padding
 * d·(K − 1) − p.
 */
export function transposedConvShape(g: Conv2dShape): Conv2dShape {
  return {
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
}

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
  } else if (pass === 'grad-input' && transposedAsConv(g)) {
    // im2col of dy (O channels, Ho×Wo) with k = O·KH·KW into an H×W output.
    const CKt = roundUpTo4(g.O * g.KH * g.KW);
    const HWx = roundUpTo4(g.H * g.W);
    bytes = [g.N * CKt * HWx, g.C * CKt, g.N * g.C * HWx];
    dims = [CKt, g.N, g.O, g.C, Math.ceil(HWx / 64)];
  } else {
    // The forward's col and output, or grad-input's dcol, padded dy and weight, and col2im's grid.
    bytes = [g.N * CKp * HWp, g.N * Op * HWp, Op * CKp];
    dims = [CKp, g.N, g.C, g.O, Math.ceil(HWp / 64), Math.ceil((g.H * g.W) / 16)];
  }
  return bytes.every((b) => b * 4 <= maxBind) && dims.every((d) => d <= maxDim);
}

/** Appends one dispatch of kernels/im2col.wgsl (a re-layout, or col2im's gather). */
function relayout(out: Conv2dSteps, d: Omit<KernelDispatch<Conv2dBuffer>, 'kind' | 'family'>): void {
  out.steps.push({ kind: 'dispatch', family: 'im2col', ...d });
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
 * src [A, Ri_s, cols_s] → dst [A, Ri_d, cols_d]: pads with zeros / crops the
 * last two dims, adding bias[b] to row b when `bias` names a buffer.
 */
function repad(
  out: Conv2dSteps,
  src: Conv2dBuffer,
  dst: Conv2dBuffer,
  A: number,
  Ri_s: number,
  cols_s: number,
  Ri_d: number,
  cols_d: number,
  bias: Conv2dBuffer | null,
): void {
  const total = A * Ri_d * cols_d;
  if (dst !== 'out') out.temps[dst] = total;
  if (total === 0) return;
  relayout(out, {
    entry: 'repad',
    bind: { src, bias: bias ?? PLACEHOLDER, dst },
    params: { total, Ri_s, Ri_d, cols_s, cols_d },
    // 128: what every device allows (compatibility mode included); a plain copy gains nothing from more.
    constants: { HAS_BIAS: bias ? 1 : 0, WG: REPAD_WG },
    workgroups: Math.ceil(total / REPAD_WG),
  });
}

const REPAD_WG = 128;

/** Workgroup size along a 1-D axis of `n` items: 64, or 16 for short axes (fewer idle lanes). */
const wgFor = (n: number) => (n >= 48 ? 64 : 16);

/** Most quads of one output row an `im2col_rows` invocation takes, and the quads of one `im2col` / `dy_t4` run (CPU adapters: 4 = one 64-byte line per tap per lane; GPUs: 1, consecutive lanes on consecutive quads). */
export const CPU_RUN_QUADS = 4;
export const GPU_RUN_QUADS = 1;
/** The segment registers of `im2col_rows` (SEG_MAX in kernels/im2col.wgsl). */
const SEG_MAX = 8;

/**
 * `im2col_rows`'s launch for a slab of `rows` output rows, or null where it
 * does not apply (`maxQuads` 0, stride sw ≠ 1, W or Wo not a multiple of 4,
 * a segment longer than SEG_MAX vec4s). RQ: quads per run, at most
 * `maxQuads`, with as few runs per row as that allows (Q = 7: RQ = 4, the
 * second run stores 3); NV: the row segment's vec4s.
 */
function rowsLaunch(g: Conv2dShape, rows: number, maxQuads: number): { RQ: number; NV: number; runs: number } | null {
  if (maxQuads === 0 || g.sw !== 1 || g.W % 4 !== 0 || g.Wo % 4 !== 0) return null;
  const Q = g.Wo / 4;
  const perRow = Math.ceil(Q / maxQuads);
  const RQ = Math.ceil(Q / perRow);
  const a0 = Math.ceil(g.pw / 4);
  const last = 4 * a0 - g.pw + 4 * RQ - 1 + (g.KW - 1) * g.dw;
  const NV = Math.floor(last / 4) + 1;
  if (NV > SEG_MAX) return null;
  return { RQ, NV, runs: rows * Math.ceil(Q / RQ) };
}

/**
 * Temporary 'col' (kernels/im2col.wgsl `im2col` + `col_zero` for the padding
 * rows) of input `src`: the forward layout [N, CKp, HWp] (z = n), or with
 * `batchFolded` the layout [CKp, Kp] (q = n·HW + p). With `runQuads` > 0
 * `im2col_rows` where it applies, else `im2col` (runs of `runQuads`
 * quads); 0: `im2col_quads` (one quad per invocation, the tests' reference).
 */
function im2col(out: Conv2dSteps, src: Conv2dBuffer, g: Conv2dShape, P: ReturnType<typeof colParams>, batchFolded: boolean, runQuads: number): void {
  const Lp = batchFolded ? roundUpTo4(g.N * P.HW) : P.HWp;
  const Lv = batchFolded ? g.N * P.HW : P.HW;
  const Z = batchFolded ? 1 : g.N;
  out.temps['col'] = Z * P.CKp * Lp;
  const q = Lp / 4;
  const WGx = wgFor(q);
  const params = { ...P, Lp, Lv };
  const constants = { WG: WGx };
  const rows = rowsLaunch(g, batchFolded ? g.N * g.Ho : g.Ho, runQuads);
  if (rows) {
    const { RQ, NV, runs } = rows;
    const WGr = wgFor(runs);
    const c = { WG: WGr, KW: g.KW, DW: g.dw, PW: g.pw, RQ, NV };
    relayout(out, { entry: 'im2col_rows', bind: { src4: src, dst4: 'col' }, params, constants: c, workgroups: [Math.ceil(runs / WGr), g.C, Z] });
  } else if (runQuads > 0) {
    const threads = Math.ceil(q / runQuads);
    const WGr = wgFor(threads);
    const c = { WG: WGr, KW: g.KW, RQ: runQuads };
    relayout(out, { entry: 'im2col', bind: { src, dst4: 'col' }, params, constants: c, workgroups: [Math.ceil(threads / WGr), g.C, Z] });
  } else relayout(out, { entry: 'im2col_quads', bind: { src, dst4: 'col' }, params, constants, workgroups: [Math.ceil(q / WGx), g.C, Z] });
  if (P.CKp > P.CK) relayout(out, { entry: 'col_zero', bind: { dst4: 'col' }, params, constants, workgroups: [Math.ceil(q / WGx), P.CKp - P.CK, Z] });
}

/** y[n] = W[O, CKp] · col[n][CKp, HWp] (matmul_sg, W broadcast over the batch), then crop + bias. */
function forward(g: Conv2dShape, hasBias: boolean, runQuads: number): Conv2dSteps {
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const P = colParams(g);
  let wm: Conv2dBuffer = 'w';
  if (P.CKp !== P.CK) {
    wm = 'wm';
    repad(out, 'w', wm, 1, g.O, P.CK, g.O, P.CKp, null);
  }
  convIm2col(out, 'x', wm, hasBias ? 'bias' : null, g, runQuads);
  return out;
}

/** The forward GEMM of input `src` with a prepared weight matrix `wm` [O, CKp], into 'out'. */
function convIm2col(out: Conv2dSteps, src: Conv2dBuffer, wm: Conv2dBuffer, bias: Conv2dBuffer | null, g: Conv2dShape, runQuads: number): void {
  const P = colParams(g);
  im2col(out, src, g, P, false, runQuads);
  // [N, O, HWp] is NCHW when HWp = HW: the GEMM writes the output directly.
  const direct = P.HWp === P.HW && !bias;
  const ym = direct ? 'out' : 'ym';
  if (!direct) out.temps[ym] = g.N * g.O * P.HWp;
  out.steps.push({ kind: 'matmul', problem: gemm(g.O, P.HWp, P.CKp, { batch: g.N, bBatched: true }), a: wm, b: 'col', c: ym });
  if (!direct) repad(out, ym, 'out', g.N, g.O, P.HWp, g.O, P.HW, bias);
}

/**
 * For stride 1 (and d·(K − 1) ≥ p, so the padding stays ≥ 0) dx is the plain
 * convolution of dy with the flipped, channel-swapped weight, padding
 * d·(K − 1) − p: one im2col of dy and one matmul with k = O·KH·KW — cheaper
 * than the Wᵀ·dy GEMM (k = O only) plus the col2im gather.
 */
function gradInputAsConv(g: Conv2dShape, runQuads: number): Conv2dSteps {
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const gt = transposedConvShape(g);
  const CK = g.O * g.KH * g.KW;
  const CKp = roundUpTo4(CK);
  out.temps['wf'] = g.C * CKp;
  relayout(out, {
    entry: 'w_flip',
    bind: { src: 'w', dst: 'wf' },
    params: { C: g.C, KH: g.KH, KW: g.KW, CK, CKp, total: g.C * CKp },
    constants: { WG: 64 },
    workgroups: Math.ceil((g.C * CKp) / 64),
  });
  convIm2col(out, 'dy', 'wf', null, gt, runQuads);
  return out;
}

/** dcol[n] = Wᵀ[CKp, Op] · dy[n][Op, HWp] (matmul_sg, transposed A), then the col2im gather. */
function gradInput(g: Conv2dShape, runQuads: number): Conv2dSteps {
  if (transposedAsConv(g)) return gradInputAsConv(g, runQuads);
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const P = colParams(g);
  const Op = roundUpTo4(g.O);
  let wm: Conv2dBuffer = 'w';
  if (P.CKp !== P.CK || Op !== g.O) {
    wm = 'wm';
    repad(out, 'w', wm, 1, g.O, P.CK, Op, P.CKp, null);
  }
  let dym: Conv2dBuffer = 'dy';
  if (P.HWp !== P.HW || Op !== g.O) {
    dym = 'dym';
    repad(out, 'dy', dym, g.N, g.O, P.HW, Op, P.HWp, null);
  }
  out.temps['dcol'] = g.N * P.CKp * P.HWp;
  out.steps.push({ kind: 'matmul', problem: gemm(P.CKp, P.HWp, Op, { batch: g.N, bBatched: true, transA: true }), a: wm, b: dym, c: 'dcol' });
  const WGx = wgFor(g.H * g.W);
  relayout(out, {
    entry: 'col2im',
    bind: { src: 'dcol', dst: 'out' },
    params: P,
    constants: { WG: WGx, SH: g.sh, SW: g.sw },
    workgroups: [Math.ceil((g.H * g.W) / WGx), g.C, g.N],
  });
  return out;
}

/**
 * dW[O, CKp] = dyt[O, Kp] · colᵀ with col [CKp, Kp], Kp = ⌈N·HW⌉₄ (one
 * matmul_sg NT, the batch folded into k), then crop. (An NN variant over a
 * transposed colT [Kp, CKp] measured no faster: its scalar stores cost more
 * than the NT loads save; docs/kernels/conv2d.md.)
 */
function gradWeight(g: Conv2dShape, runQuads: number): Conv2dSteps {
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const P = colParams(g);
  const Kp = roundUpTo4(g.N * P.HW);
  out.temps['dyt'] = g.O * Kp;
  if (runQuads > 0 && P.HW % 4 === 0) {
    const threads = Math.ceil(Kp / 4 / runQuads);
    const WG = wgFor(threads);
    relayout(out, {
      entry: 'dy_t4',
      bind: { src4: 'dy', dst4: 'dyt' },
      params: { ...P, Lp: Kp },
      constants: { WG, RQ: runQuads },
      workgroups: [Math.ceil(threads / WG), g.O, 1],
    });
  } else {
    relayout(out, {
      entry: 'dy_t',
      bind: { src: 'dy', dst4: 'dyt' },
      params: { ...P, Lp: Kp },
      constants: { WG: 64 },
      workgroups: [Math.ceil(Kp / 256), g.O, 1],
    });
  }
  im2col(out, 'x', g, P, true, runQuads); // [CKp, Kp]
  const direct = P.CKp === P.CK;
  const dwm = direct ? 'out' : 'dwm';
  if (!direct) out.temps[dwm] = g.O * P.CKp;
  out.steps.push({ kind: 'matmul', problem: gemm(g.O, P.CKp, Kp, { transB: true }), a: 'dyt', b: 'col', c: dwm });
  if (!direct) repad(out, dwm, 'out', 1, g.O, P.CKp, g.O, P.CK, null);
  return out;
}

/**
 * The im2col path's steps for one pass (groups = 1, `im2colFits`, nothing
 * empty). `runQuads`: the most output quads an `im2col_rows` invocation
 * takes, and the run length of `im2col` / `dy_t4` elsewhere
 * (CPU_RUN_QUADS, the default: the im2col path is the default only on
 * 8-lane-subgroup adapters, i.e. lavapipe; GPU_RUN_QUADS for GPUs; 0 runs
 * the reference kernels `im2col_quads` / `dy_t` everywhere — tests compare them).
 */
export function im2colSteps(g: Conv2dShape, pass: Conv2dPass, hasBias: boolean, runQuads = CPU_RUN_QUADS): Conv2dSteps {
  return pass === 'forward' ? forward(g, hasBias, runQuads) : pass === 'grad-input' ? gradInput(g, runQuads) : gradWeight(g, runQuads);
}

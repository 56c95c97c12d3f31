/**
 * The subgroup implicit-GEMM conv2d path (kernels/conv2d_sg.wgsl), for
 * adapters with 8-lane subgroups (lavapipe): matmul_sg8's scheme with the
 * im2col matrix gathered from the input in registers — no im2col pass, no
 * col buffer. Forward (any stride), the stride-1 input gradient as a plain
 * conv of dy with the flipped weight (the same kernel), the strided input
 * gradient by output phases (`conv2d_sg_dx`: no zero taps, no col2im) and
 * the weight gradient (`conv2d_sg_gw`). Rows on vec4 boundaries (W and Wo
 * multiples of 4) are read as vec4s; other widths (14, 7, odd) as scalars
 * (ALIGNED = 0) — not for a strided weight gradient over such rows (im2col
 * is faster there).
 * groups = 1, KW ≤ 4 (see `sgFits`). The forward, grad-weight and stride-1
 * grad-input sum in the order of im2col + matmul_sg8: bit-identical to that
 * path; the phased grad-input sums in another order than col2im's.
 */
import type { Conv2dShape } from './conv2d.js';
import { transposedAsConv, transposedConvShape } from './conv2d-im2col.js';
import type { Conv2dPass } from './conv2d-path.js';
import type { Conv2dSteps } from './conv2d-steps.js';
import { PLACEHOLDER } from './dispatch-list.js';

/** The segment registers of `conv2d_sg` (SEG_MAX in kernels/conv2d_sg.wgsl). */
const SEG_MAX = 8;

/** The convolution the kernel computes for a pass (grad-input: the transposed conv as a conv of dy), or null where the path does not apply. */
function convOf(g: Conv2dShape, pass: Conv2dPass): Conv2dShape | null {
  if (g.groups !== 1) return null;
  if (pass !== 'grad-input') return g;
  if (!transposedAsConv(g)) return null;
  return transposedConvShape(g);
}

/**
 * The segment constants from the elements the windows use (element e of the
 * segment = bit e & 3 of vec4 e >> 2): NV, the single-element vec4s
 * (ONE_MASK, ONE_IDX) and every used element (USED, bit e) for unaligned rows.
 */
function segmentConstants(elements: Iterable<number>): { NV: number; ONE_MASK: number; ONE_IDX: number; USED: number } {
  const used = new Map<number, Set<number>>();
  for (const e of elements) {
    if (!used.has(e >> 2)) used.set(e >> 2, new Set());
    used.get(e >> 2)!.add(e & 3);
  }
  const NV = used.size ? Math.max(...used.keys()) + 1 : 1;
  let ONE_MASK = 0;
  let ONE_IDX = 0;
  let USED = 0;
  for (const [v, els] of used) {
    if (els.size === 1) {
      ONE_MASK |= 1 << v;
      ONE_IDX |= [...els][0]! << (2 * v);
    }
    for (const k of els) if (4 * v + k < 32) USED = (USED | (1 << (4 * v + k))) >>> 0;
  }
  return { NV, ONE_MASK, ONE_IDX, USED };
}

/** One `conv2d_sg_dx` dispatch: its column phase(s) as override constants. */
type DxDispatch = Record<string, number>;

/** Per tap kx < 4: the dy column offset of column phase RX, or null where the tap does not reach the phase. */
function phaseOffsets(g: Conv2dShape, RX: number): (number | null)[] {
  const offs: (number | null)[] = [];
  for (let kx = 0; kx < 4; kx++) {
    const t = RX + g.pw - kx * g.dw;
    offs.push(kx < g.KW && ((t % g.sw) + g.sw) % g.sw === 0 ? t / g.sw : null);
  }
  return offs;
}

/**
 * The `conv2d_sg_dx` dispatches of the strided input gradient (the
 * grad-input route where dx is not a plain conv of dy: stride > 1, or
 * negative transposed padding), or null where it does not apply (groups,
 * KW > 4, a row segment past SEG_MAX; dy rows off vec4 boundaries — Wo not a
 * multiple of 4 — are read as scalars, ALIGNED = 0). Column
 * phase RX takes the taps kx with (RX + pw − kx·dw) ≡ 0 (mod sw), each
 * reading dy columns 4·qx + j + off, off = (RX + pw − kx·dw)/sw. Stride 2:
 * one dispatch computing both phases (PH2); otherwise one per phase.
 */
function dxDispatches(g: Conv2dShape): DxDispatch[] | null {
  if (g.groups !== 1 || transposedAsConv(g) || g.KW > 4) return null;
  const groups: number[][] = g.sw === 2 && g.W >= 2 ? [[0, 1]] : Array.from({ length: Math.min(g.sw, g.W) }, (_, RX) => [RX]);
  const out: DxDispatch[] = [];
  for (const rxs of groups) {
    const offs = rxs.map((RX) => phaseOffsets(g, RX));
    const valid = offs.flat().filter((o): o is number => o !== null);
    const A0 = valid.length ? Math.max(0, Math.ceil(-Math.min(...valid) / 4)) : 0;
    const E = offs.map((ph) => ph.map((o) => (o === null ? 0 : 4 * A0 + o)));
    const elements: number[] = [];
    for (const [i, ph] of offs.entries()) for (const [kx, o] of ph.entries()) if (o !== null) for (let j = 0; j < 4; j++) elements.push(E[i]![kx]! + j);
    const seg = segmentConstants(elements);
    if (seg.NV > SEG_MAX) return null;
    const mask = (ph: (number | null)[]) => ph.reduce((m: number, o, kx) => (o === null ? m : m | (1 << kx)), 0);
    const d: DxDispatch = {
      RX: rxs[0]!,
      KX_MASK: mask(offs[0]!),
      E0: E[0]![0]!,
      E1: E[0]![1]!,
      E2: E[0]![2]!,
      E3: E[0]![3]!,
      A0,
      ...seg,
      ALIGNED: g.Wo % 4 === 0 ? 1 : 0,
    };
    if (rxs.length === 2) Object.assign(d, { PH2: 1, KX_MASK2: mask(offs[1]!), F0: E[1]![0]!, F1: E[1]![1]!, F2: E[1]![2]!, F3: E[1]![3]! });
    out.push(d);
  }
  return out;
}

/** Lanes (output quads of the first phase) of one `conv2d_sg_dx` dispatch: N · ⌈H/sh⌉ rows × ⌈phase columns / 4⌉. */
const dxLanes = (g: Conv2dShape, RX: number): number => g.N * Math.ceil(g.H / g.sh) * Math.ceil(Math.ceil((g.W - RX) / g.sw) / 4);

/** Vec4s of the input row segment one quad's windows cover (NV), with the segment starting ⌈PW/4⌉ vec4s left of the quad. */
function segmentVec4s(c: Conv2dShape, RQ = 1): number {
  const a0 = Math.ceil(c.pw / 4);
  const last = 4 * a0 - c.pw + (4 * RQ - 1) * c.sw + (c.KW - 1) * c.dw;
  return Math.floor(last / 4) + 1;
}

/**
 * The segment constants of `conv2d_sg` / `conv2d_sg_gw` for RQ quads per
 * lane: the elements shift + sw·j + dw·kx for the 4·RQ pixels j and the KW
 * taps kx (for grad-weight every kx < 4 is formed, kx ≥ KW read as 0, so
 * only the KW real taps count). See `segmentConstants`.
 */
function quadSegment(c: Conv2dShape, RQ = 1): ReturnType<typeof segmentConstants> {
  const shift = 4 * Math.ceil(c.pw / 4) - c.pw;
  const elements: number[] = [];
  for (let j = 0; j < 4 * RQ; j++) for (let kx = 0; kx < c.KW; kx++) elements.push(shift + j * c.sw + kx * c.dw);
  return segmentConstants(elements);
}

/** Output-channel rows per workgroup: the smallest of 8, 16, 24, 32 that holds O (32 above); the forward kernel takes at most 16 (below). */
export const sgRows = (O: number): number => Math.min(32, Math.ceil(O / 8) * 8);

/**
 * Quads per `conv2d_sg` lane: 2 where a row has two or more (the two share
 * every weight load and most of the input segment), else 1. With RQ = 2 the
 * forward takes TM ≤ 16 rows, so a lane keeps 32 accumulators as with
 * TM = 32, RQ = 1 — measured 1.7× faster (lavapipe, 64→64 32×32, N = 8:
 * 26 vs 45 ms; docs/kernels/conv2d.md).
 */
export const sgRunQuads = (c: Conv2dShape): number => (c.Wo > 4 && segmentVec4s(c, 2) <= SEG_MAX ? 2 : 1);

/** Whether every row of the conv's input and output starts on a vec4 (W, Wo multiples of 4): else ALIGNED = 0 (scalar loads and stores). */
const aligned = (c: Conv2dShape): boolean => c.W % 4 === 0 && c.Wo % 4 === 0;

/** The rows (TM) of a pass's tile: grad-weight `sgRows`, the forward kernel at most 16. */
const tileRows = (c: Conv2dShape, pass: Conv2dPass): number => (pass === 'grad-weight' ? sgRows(c.O) : Math.min(16, sgRows(c.O)));

/** Whether the path applies to this pass and shape and its buffers and grid fit the adapter's limits. */
export function sgFits(
  g: Conv2dShape,
  pass: Conv2dPass,
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxComputeWorkgroupsPerDimension'>,
): boolean {
  if (pass === 'grad-input' && g.groups === 1 && !transposedAsConv(g)) {
    const phases = dxDispatches(g);
    if (!phases) return false;
    const maxDim = limits.maxComputeWorkgroupsPerDimension;
    const grid = [
      ...phases.map((ph) => Math.ceil(dxLanes(g, ph.RX!) / 8)),
      Math.ceil(g.C / Math.min(16, sgRows(g.C))),
      g.sh,
      Math.ceil((g.O * g.C * g.KH) / 64),
    ];
    const bytes = [g.N * g.O * g.Ho * g.Wo, g.N * g.C * g.H * g.W, g.O * g.C * g.KH * 4].map((n) => n * 4);
    return grid.every((d) => d <= maxDim) && bytes.every((b) => b <= limits.maxStorageBufferBindingSize);
  }
  const c = convOf(g, pass);
  if (!c) return false;
  if (c.KW > 4 || segmentVec4s(c) > SEG_MAX) return false;
  // A strided weight gradient over input rows off vec4 boundaries gathers every
  // element as a scalar: slower than im2col there (14 → 7, N = 32: 5.1 vs 2.5 ms;
  // 7 → 4: 4.8 vs 4.2 ms — docs/kernels/conv2d.md).
  if (pass === 'grad-weight' && c.sw > 1 && c.W % 4 !== 0) return false;
  const quads = c.N * c.Ho * Math.ceil(c.Wo / 4);
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  const grid = [
    pass === 'grad-weight' ? Math.ceil((c.C * c.KH) / 8) : Math.ceil(quads / 8),
    Math.ceil(c.O / tileRows(c, pass)),
    Math.ceil((c.O * c.C * c.KH) / 64),
  ];
  const bytes = [c.N * c.C * c.H * c.W, c.N * c.O * c.Ho * c.Wo, c.O * c.C * c.KH * 4].map((n) => n * 4);
  return quads > 0 && grid.every((d) => d <= maxDim) && bytes.every((b) => b <= limits.maxStorageBufferBindingSize);
}

/**
 * The path's steps for one pass (`sgFits` must hold): forward and
 * grad-input `w_pack` → 'wp' [O, C·KH, 4] (flipped for grad-input), then one
 * `conv2d_sg` into 'out'; grad-weight one `conv2d_sg_gw` of x and dy.
 */
export function sgSteps(g: Conv2dShape, pass: Conv2dPass, hasBias: boolean, o: { runQuads?: number; rows?: number } = {}): Conv2dSteps {
  if (pass === 'grad-input' && g.groups === 1 && !transposedAsConv(g)) return dxSteps(g, o.rows);
  const c = convOf(g, pass);
  if (!c) throw new Error(`conv2d sg: pass ${pass} does not apply to this shape`);
  const out: Conv2dSteps = { temps: {}, steps: [] };
  const params = { N: c.N, C: c.C, H: c.H, W: c.W, O: c.O, KH: c.KH, Ho: c.Ho, Wo: c.Wo, sh: c.sh, ph: c.ph, dh: c.dh };
  const quads = c.N * c.Ho * Math.ceil(c.Wo / 4);
  const TM = o.rows ?? tileRows(c, pass);
  const geometry = { TM, KW: c.KW, DW: c.dw, SW: c.sw, PW: c.pw, ...quadSegment(c), ALIGNED: aligned(c) ? 1 : 0 };
  if (pass === 'grad-weight') {
    out.steps.push({
      kind: 'dispatch',
      family: 'conv2d_sg',
      entry: 'conv2d_sg_gw',
      bind: { x4: 'x', x1: 'x', x4dy: 'dy', dy1: 'dy', dw: 'out' },
      params: { ...params, total: quads },
      constants: geometry,
      workgroups: [Math.ceil((c.C * c.KH) / 8), Math.ceil(c.O / TM), 1],
    });
    return out;
  }
  const rows = c.O * c.C * c.KH;
  out.temps['wp'] = rows * 4;
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d_sg',
    entry: 'w_pack',
    bind: { wsrc: 'w', wdst: 'wp' },
    params: { ...params, total: rows },
    constants: { KW: c.KW, FLIP: pass === 'grad-input' ? 1 : 0 },
    workgroups: Math.ceil(rows / 64),
  });
  const bias = pass === 'forward' && hasBias;
  const src = pass === 'forward' ? 'x' : 'dy';
  const RQ = o.runQuads ?? sgRunQuads(c);
  const runs = c.N * c.Ho * Math.ceil(c.Wo / 4 / RQ);
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d_sg',
    entry: 'conv2d_sg',
    // The view not written and an absent bias: buffers that alias no writable binding.
    bind: { x4: src, x1: src, wp: 'wp', bias: bias ? 'bias' : 'wp', y4: aligned(c) ? 'out' : PLACEHOLDER, y1: aligned(c) ? PLACEHOLDER : 'out' },
    params: { ...params, total: runs },
    constants: { ...geometry, ...quadSegment(c, RQ), RQ, KHC: c.KH, HAS_BIAS: bias ? 1 : 0 },
    workgroups: [Math.ceil(runs / 8), Math.ceil(c.O / TM), 1],
  });
  return out;
}

/**
 * The strided input gradient by phases: `w_pack` (FLIP 2: channels swapped,
 * taps as they are) → 'wp' [C, O·KH, 4], then one `conv2d_sg_dx` per column
 * phase RX (grid z: the row phases), each writing its pixels of 'out'.
 */
function dxSteps(g: Conv2dShape, rows?: number): Conv2dSteps {
  const phases = dxDispatches(g);
  if (!phases) throw new Error('conv2d sg: the strided grad-input route does not apply to this shape');
  const out: Conv2dSteps = { temps: {}, steps: [] };
  // The kernel's view: C = dy's channels (O), H×W = dy's Ho×Wo, O = dx's channels (C), Ho×Wo = dx's H×W.
  const params = { N: g.N, C: g.O, H: g.Ho, W: g.Wo, O: g.C, KH: g.KH, Ho: g.H, Wo: g.W, sh: g.sh, ph: g.ph, dh: g.dh };
  const packRows = g.C * g.O * g.KH;
  out.temps['wp'] = packRows * 4;
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d_sg',
    entry: 'w_pack',
    bind: { wsrc: 'w', wdst: 'wp' },
    params: { ...params, total: packRows },
    constants: { KW: g.KW, FLIP: 2 },
    workgroups: Math.ceil(packRows / 64),
  });
  const TM = Math.min(16, rows ?? sgRows(g.C)); // conv2d_sg_dx holds at most 16 rows
  for (const ph of phases) {
    const lanes = dxLanes(g, ph.RX!);
    out.steps.push({
      kind: 'dispatch',
      family: 'conv2d_sg',
      entry: 'conv2d_sg_dx',
      bind: { x4: 'dy', x1: 'dy', wp: 'wp', dxo: 'out' },
      params: { ...params, total: lanes },
      constants: { ...ph, TM, SW: g.sw, KHC: g.KH },
      workgroups: [Math.ceil(lanes / 8), Math.ceil(g.C / TM), g.sh],
    });
  }
  return out;
}

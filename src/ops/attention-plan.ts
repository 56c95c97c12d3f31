/**
 * The token-major multi-head attention's configurations and, for each, its
 * dispatches: one description that both the op (attentionTokens,
 * src/ops/attention.ts) and the autotuner (src/ops/attention-tuning.ts) run,
 * so the tuner times exactly what the op launches.
 *
 * q [N, Lq, H, dh], k [N, Lk, H, dh], v [N, Lk, H, dv] → out [N, Lq, H, dv],
 * the layout a Linear produces and consumes. The forms:
 *  - 'unfused': the head-major path of `attention` (batched matmuls around
 *    attention.wgsl's row softmax, P stored), with the head split and merge
 *    as one copy dispatch each (heads_copy3 / heads_copy1, split or merge) instead
 *    of a permute per tensor; bit-identical to permute + `attention` + permute;
 *  - 'fused': kernels/attention_fused.wgsl's attn_fwd / attn_bwd_q /
 *    attn_bwd_kv (a thread per row, no workgroup memory: the CPU adapters'
 *    kernels), WG threads per workgroup;
 *  - 'tiled': attn_fwd_tiled / attn_bwd_q_tiled / attn_bwd_kv_tiled, the same
 *    with the walked rows staged in workgroup-memory tiles of BK rows, for GPUs.
 * A plan is a dispatch list (src/ops/dispatch-list.ts) over named buffers.
 */
import type { TuneConfig } from '../tune/types.js';
import { type DispatchStep, gemm } from './dispatch-list.js';

/** The attention's size: batch, heads, query and key lengths, head sizes of q/k and of v. */
export interface AttnShape {
  N: number;
  H: number;
  Lq: number;
  Lk: number;
  dh: number;
  dv: number;
}

export type AttnBuffer =
  | 'q'
  | 'k'
  | 'v'
  | 'out'
  | 'lse'
  | 'g'
  | 'dq'
  | 'dk'
  | 'dv'
  | 'delta'
  | 'qh'
  | 'kh'
  | 'vh'
  | 'scores'
  | 'prob'
  | 'outh'
  | 'gh'
  | 'dprob'
  | 'dS'
  | 'dqh'
  | 'dkh'
  | 'dvh';

export type AttnStep = DispatchStep<AttnBuffer>;

export interface AttnPlan {
  /** q, k, v → out (and what the backward needs). */
  forward: AttnStep[];
  /** What the backward reads besides g, in this order (the forward's inputs, output or intermediates). */
  saved: AttnBuffer[];
  /** g and the saved buffers → dq, dk, dv. */
  backward: AttnStep[];
  /** Elements of every buffer; the runner allocates those a step binds and is not given. */
  sizes: Record<AttnBuffer, number>;
}

const FAMILY = 'attention_fused';
/** Workgroup width of the split / merge copies and of attention.wgsl's softmax (its default WG, as softmaxRowsRaw runs it). */
const WG_1D = 64;
/** The largest head size the fused kernels hold in registers (4·DMAX4 in attention_fused.wgsl). */
export const FUSED_MAX_D = 128;
/** Workgroup widths the 'fused' kernels are built for. */
export const FUSED_WGS = [16, 32, 64] as const;
/** [WG, BK] of the 'tiled' kernels: rows per workgroup, rows per workgroup-memory tile. */
export const TILED_TILES: readonly (readonly [number, number])[] = [
  [64, 16],
  [32, 16],
  [64, 32],
  [128, 16],
  [32, 32],
];

export const UNFUSED: TuneConfig = { variant: 'unfused', constants: {} };
export const fusedConfig = (WG: number): TuneConfig => ({ variant: 'fused', constants: { WG } });
export const tiledConfig = ([WG, BK]: readonly [number, number]): TuneConfig => ({ variant: 'tiled', constants: { WG, BK } });

/** The 'fused' kernels' default width: the smallest of FUSED_WGS that covers Lq (and Lk), else 64. */
export function fusedWg(s: AttnShape): number {
  const L = Math.max(s.Lq, s.Lk);
  return FUSED_WGS.find((w) => w >= L) ?? 64;
}

/** Workgroup memory of the tiled kernels: two tiles of BK rows of max(dh, dv) channels (in vec4) and two of BK f32 (see attention_fused.wgsl). */
export function tiledSmemBytes(s: AttnShape, c: Record<string, number>): number {
  return 2 * c['BK']! * 16 * Math.ceil(Math.max(s.dh, s.dv) / 4) + 2 * c['BK']! * 4;
}

export function attnBufferSizes({ N, H, Lq, Lk, dh, dv }: AttnShape): Record<AttnBuffer, number> {
  const nq = N * H * Lq * dh;
  const nk = N * H * Lk * dh;
  const nv = N * H * Lk * dv;
  const no = N * H * Lq * dv;
  const ss = N * H * Lq * Lk;
  return {
    q: nq,
    k: nk,
    v: nv,
    out: no,
    lse: N * H * Lq,
    g: no,
    dq: nq,
    dk: nk,
    dv: nv,
    delta: N * H * Lq,
    qh: nq,
    kh: nk,
    vh: nv,
    scores: ss,
    prob: ss,
    outh: no,
    gh: no,
    dprob: ss,
    dS: ss,
    dqh: nq,
    dkh: nk,
    dvh: nv,
  };
}

function unfusedPlan(s: AttnShape, scale: number): Omit<AttnPlan, 'sizes'> {
  const { N, H, Lq, Lk, dh, dv } = s;
  const BH = N * H;
  const bat = { batch: BH, aBatched: true, bBatched: true };
  const rows = BH * Lq;
  // Split and merge: vec4 units when both widths allow; a row block (n, h) per grid row.
  const u = dh % 4 === 0 && dv % 4 === 0 ? 4 : 1;
  const sfx = u === 4 ? '_v4' : '';
  const [x0, x1, x2, y0, y1, y2] = u === 4 ? ['xv0', 'xv1', 'xv2', 'yv0', 'yv1', 'yv2'] : ['x0', 'x1', 'x2', 'y0', 'y1', 'y2'];
  const grid = (...ld: number[]): [number, number, number] => [Math.ceil(Math.max(...ld) / u / WG_1D), BH, 1];
  // One (heads_copy1) or three (heads_copy3) tensors per dispatch, split (token-major → head-major) or merge.
  const copy = (direction: 'split' | 'merge', bind: [AttnBuffer, AttnBuffer][], ld: [number, number][]): AttnStep => ({
    kind: 'dispatch',
    family: FAMILY,
    entry: `heads_copy${bind.length}${sfx}`,
    bind: Object.fromEntries(
      bind.flatMap(([x, y], z) => [
        [[x0, x1, x2][z]!, x],
        [[y0, y1, y2][z]!, y],
      ]),
    ),
    params: { N, H, ...Object.fromEntries(ld.map(([L], z) => [`L${z}`, L])) },
    // the widths as constants: the index arithmetic divides by constants
    constants: { ...Object.fromEntries(ld.map(([, d], z) => [`D${z}`, d / u])), MERGE: direction === 'merge' ? 1 : 0 },
    workgroups: grid(...ld.map(([L, d]) => L * d)),
  });
  const wgs = (n: number) => Math.ceil(n / WG_1D);
  const qkv: [number, number][] = [
    [Lq, dh],
    [Lk, dh],
    [Lk, dv],
  ];
  return {
    forward: [
      copy(
        'split',
        [
          ['q', 'qh'],
          ['k', 'kh'],
          ['v', 'vh'],
        ],
        qkv,
      ),
      { kind: 'matmul', problem: gemm(Lq, Lk, dh, { ...bat, transB: true }), a: 'qh', b: 'kh', c: 'scores' },
      {
        kind: 'dispatch',
        family: 'attention',
        entry: 'softmax_fwd',
        bind: { x: 'scores', out: 'prob' },
        params: { rows, cols: Lk, scale },
        workgroups: wgs(rows),
      },
      { kind: 'matmul', problem: gemm(Lq, dv, Lk, bat), a: 'prob', b: 'vh', c: 'outh' },
      copy('merge', [['outh', 'out']], [[Lq, dv]]),
    ],
    saved: ['qh', 'kh', 'vh', 'prob'],
    backward: [
      copy('split', [['g', 'gh']], [[Lq, dv]]),
      { kind: 'matmul', problem: gemm(Lk, dv, Lq, { ...bat, transA: true }), a: 'prob', b: 'gh', c: 'dvh' },
      { kind: 'matmul', problem: gemm(Lq, Lk, dv, { ...bat, transB: true }), a: 'gh', b: 'vh', c: 'dprob' },
      {
        kind: 'dispatch',
        family: 'attention',
        entry: 'softmax_bwd',
        bind: { x: 'prob', dp: 'dprob', out: 'dS' },
        params: { rows, cols: Lk, scale },
        workgroups: wgs(rows),
      },
      { kind: 'matmul', problem: gemm(Lq, dh, Lk, bat), a: 'dS', b: 'kh', c: 'dqh' },
      { kind: 'matmul', problem: gemm(Lk, dh, Lq, { ...bat, transA: true }), a: 'dS', b: 'qh', c: 'dkh' },
      copy(
        'merge',
        [
          ['dqh', 'dq'],
          ['dkh', 'dk'],
          ['dvh', 'dv'],
        ],
        qkv,
      ),
    ],
  };
}

function fusedPlan(s: AttnShape, scale: number, cfg: TuneConfig): Omit<AttnPlan, 'sizes'> {
  const { N, H, Lq, Lk, dh, dv } = s;
  const tiled = cfg.variant === 'tiled';
  const suffix = tiled ? '_tiled' : '';
  const WG = cfg.constants['WG']!;
  // The tiled kernels' loops run to the override constants DH, DV (registers on a GPU); the CPU kernels' to the uniforms dh, dv (one pipeline for all shapes).
  const constants = tiled ? { ...cfg.constants, DH: dh, DV: dv } : cfg.constants;
  const params = { N, H, Lq, Lk, scale, dh, dv, dh4: Math.ceil(dh / 4), dv4: Math.ceil(dv / 4) };
  const grid = (L: number): [number, number, number] => [Math.ceil(L / WG), N * H, 1];
  return {
    forward: [
      {
        kind: 'dispatch',
        family: FAMILY,
        entry: `attn_fwd${suffix}`,
        bind: { q: 'q', k: 'k', v: 'v', out: 'out', out2: 'lse' },
        params,
        constants,
        workgroups: grid(Lq),
      },
    ],
    saved: ['q', 'k', 'v', 'out', 'lse'],
    backward: [
      {
        kind: 'dispatch',
        family: FAMILY,
        entry: `attn_bwd_q${suffix}`,
        bind: { q: 'q', k: 'k', v: 'v', g: 'g', o: 'out', lse: 'lse', out: 'dq', out2: 'delta' },
        params,
        constants,
        workgroups: grid(Lq),
      },
      {
        kind: 'dispatch',
        family: FAMILY,
        entry: `attn_bwd_kv${suffix}`,
        bind: { q: 'q', k: 'k', v: 'v', g: 'g', lse: 'lse', delta: 'delta', out: 'dk', out2: 'dv' },
        params,
        constants,
        workgroups: grid(Lk),
      },
    ],
  };
}

/** The dispatches of configuration `cfg` for shape `s` (`scale` multiplies the scores). */
export function attnPlan(s: AttnShape, scale: number, cfg: TuneConfig): AttnPlan {
  const plan = cfg.variant === 'unfused' ? unfusedPlan(s, scale) : fusedPlan(s, scale, cfg);
  return { ...plan, sizes: attnBufferSizes(s) };
}

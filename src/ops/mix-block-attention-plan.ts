/**
 * The Mix Block attention's configurations and, for each, its dispatches: one
 * description that both the op (src/ops/mix-block-attention.ts) and the
 * autotuner (src/ops/mix-block-attention-tuning.ts) run, so the tuner times
 * exactly what the op launches.
 *
 * The attention sits between the projection P = Wcat·z ([N, d+1, L]) and the
 * parameter-gradient matmul; what differs between configurations is:
 *  - 'unfused': Q, K, v materialised (mb_build_qkv), scores and A·v as batched
 *    matmuls around a row softmax, A stored; backward mb_dscores + three matmuls;
 *  - 'fused': kernels/mix_block_attention.wgsl's mb_attn_fwd / mb_attn_bwd_q /
 *    mb_attn_bwd_k (a thread per 4 queries or keys, no workgroup memory: the
 *    CPU-adapter kernels), WG threads per workgroup;
 *  - 'tiled': kernels/mix_block_attention_tiled.wgsl (workgroup-memory tiles,
 *    one score recomputation in the backward, dQ/dK written in parts), for GPUs.
 * Every backward ends with mb_combine, which sums the parts and gathers the
 * partners' dK, dv into dP [N, d+1, L] and its row sums.
 *
 * A plan is a dispatch list (src/ops/dispatch-list.ts) over named buffers
 * (MbBuffer): the op runs it, the tuner times it.
 */
import type { TuneConfig } from '../tune/types.js';
import { type DispatchStep, gemm } from './dispatch-list.js';

/** The attention's size: batch, query/key width, positions. */
export interface MbShape {
  N: number;
  d: number;
  L: number;
}

export type MbBuffer = 'proj' | 'perm' | 'consts' | 'ds' | 's' | 'lse' | 'Q' | 'K' | 'v' | 'scores' | 'A' | 'dU' | 'dq' | 'dk' | 'dv' | 'dkv' | 'dP' | 'rows';

/** One step: a dispatch, or (the unfused form) a GEMM as the matmul family chooses it. */
export type MbStep = DispatchStep<MbBuffer>;

export interface MbPlan {
  /** P, π and the constants → s (and what the backward needs). */
  forward: MbStep[];
  /** What the forward writes that the backward reads (proj, perm and consts aside). */
  saved: MbBuffer[];
  /** ds and the saved buffers → dq, dk, dv (in parts) → dP, rows. */
  backward: MbStep[];
  /** Elements (f32 or i32) of every buffer; the runner allocates those a step binds and is not given. */
  sizes: Record<MbBuffer, number>;
}

const FAMILY = 'mix_block_attention';
const TILED_FAMILY = 'mix_block_attention_tiled';
/** Workgroup width of the 1-D kernels of mix_block_attention.wgsl. */
const WG_1D = 64;
/** Queries (or keys) per thread in the 'fused' kernels: TQ in mix_block_attention.wgsl. */
const FUSED_TQ = 4;
/** softmax_fwd's workgroup width (attention.wgsl's default WG, which softmaxRowsRaw uses). */
const SOFTMAX_WG = 64;

/** Workgroup widths the 'fused' kernels are built for. */
export const FUSED_WGS = [8, 16, 32, 64] as const;

/** The 'fused' kernels' default width: WG·TQ ≈ L, at least one 8-lane vector, at most 64 (the pre-tuner rule). */
export function fusedWg(L: number): number {
  return Math.min(64, Math.max(8, Math.ceil(Math.ceil(L / FUSED_TQ) / 8) * 8));
}

/** [BQ, BK, DC, TQ, TK] of the 'tiled' kernels (see mix_block_attention_tiled.wgsl). */
export type MbTile = readonly [number, number, number, number, number];

/**
 * Tiles of the 'tiled' kernels. GPU-sized ones (64–256 invocations, 4×4 or
 * smaller register tiles), small ones for short maps (7×7), and two with few
 * invocations and 8×8 register tiles that suit CPU adapters.
 */
export const MB_TILES: readonly MbTile[] = [
  [64, 64, 16, 4, 4],
  [32, 64, 16, 2, 4],
  [64, 32, 16, 4, 2],
  [32, 32, 16, 2, 2],
  [32, 32, 32, 4, 4],
  [16, 64, 16, 2, 4],
  [64, 16, 16, 4, 2],
  [16, 16, 16, 2, 2],
  [64, 64, 16, 8, 8],
  [32, 32, 32, 8, 8],
];

/** Bytes the tiled backward's dQ and dK parts may take, each (the tuner allocates the largest). */
export const MB_PARTS_BYTES = 64 << 20;

export const tiledConfig = ([BQ, BK, DC, TQ, TK]: MbTile): TuneConfig => ({
  variant: 'tiled',
  constants: { BQ, BK, DC, TQ, TK, WG: (BQ / TQ) * (BK / TK) },
});

/** Parts of dQ (one per key block) and of dK, dv (one per query block) a configuration writes. */
export function partsOf(s: MbShape, cfg: TuneConfig): { nq: number; nk: number } {
  if (cfg.variant !== 'tiled') return { nq: 1, nk: 1 };
  return { nq: Math.ceil(s.L / cfg.constants['BK']!), nk: Math.ceil(s.L / cfg.constants['BQ']!) };
}

/**
 * Workgroup memory of the tiled kernels (see mix_block_attention_tiled.wgsl):
 * TILES vec4 for the staged Q and K rows (DC/4 channels and one of padding
 * each), SMEM words for the larger of the forward's merge area and the
 * backward's dU block and dv partial sums; `bytes` in all.
 */
export function tiledSmem(c: Record<string, number>): { SMEM: number; TILES: number; bytes: number } {
  const { BQ, BK, DC, TQ, TK } = c as Record<'BQ' | 'BK' | 'DC' | 'TQ' | 'TK', number>;
  const TILES = (BQ + BK) * (DC / 4 + 1);
  const SMEM = Math.max(3 * BQ * (BK / TK), BQ * (BK + 1) + (BQ / TQ) * BK);
  return { SMEM, TILES, bytes: 16 * TILES + 4 * SMEM };
}

/** Whether a tile is well-formed (the WGSL's register arrays hold at most 8 queries and 8 keys per thread). */
export function tileWellFormed(c: Record<string, number>): boolean {
  const { BQ, BK, DC, TQ, TK, WG } = c as Record<'BQ' | 'BK' | 'DC' | 'TQ' | 'TK' | 'WG', number>;
  if (![BQ, BK, DC, TQ, TK, WG].every((v) => Number.isInteger(v) && v! > 0)) return false;
  if (TQ! > 8 || TK! > 8 || BQ! % TQ! || BK! % TK! || DC! % 4) return false;
  return WG === (BQ! / TQ!) * (BK! / TK!) && Object.keys(c).length === 6;
}

/**
 * Elements (f32 or i32) of every buffer any configuration binds, for dQ parts
 * `nq` and dK, dv parts `nk` (a configuration allocates only what it binds).
 */
export function mbBufferSizes({ N, d, L }: MbShape, { nq, nk }: { nq: number; nk: number }): Record<MbBuffer, number> {
  return {
    proj: N * (d + 1) * L,
    perm: N,
    consts: 2 * d + 1,
    ds: N * L,
    s: N * L,
    lse: N * L,
    Q: N * d * L,
    K: N * d * L,
    v: N * L,
    scores: N * L * L,
    A: N * L * L,
    dU: N * L * L,
    dq: nq * N * d * L,
    dk: nk * N * d * L,
    dv: nk * N * L,
    dkv: nk * N * (d + 1) * L,
    dP: N * (d + 1) * L,
    rows: N * (2 * d + 1),
  };
}

/** The dispatches of configuration `cfg` for an attention of shape `s` (scale = 1/√d). */
export function attentionPlan(s: MbShape, cfg: TuneConfig): MbPlan {
  const { N, d, L } = s;
  const base = { N, d, L, scale: 1 / Math.sqrt(d) };
  const parts = partsOf(s, cfg);
  const sizes = mbBufferSizes(s, parts);
  const combine: MbStep = {
    kind: 'dispatch',
    family: FAMILY,
    entry: 'mb_combine',
    constants: { WG: WG_1D },
    workgroups: Math.ceil((N * (d + 1)) / WG_1D),
    params: { N, d, L, nq_parts: parts.nq, nk_parts: parts.nk, kv_packed: 0 },
    bind: { perm: 'perm', gq: 'dq', gk: 'dk', gv: 'dv', out: 'dP', out2: 'rows' },
  };
  if (cfg.variant === 'unfused') {
    const total = N * (d + 1) * L;
    // [N] op(a)·op(b), both operands batched.
    const mm = (M: number, Nc: number, K: number, t: { transA?: boolean; transB?: boolean }, a: MbBuffer, b: MbBuffer, c: MbBuffer): MbStep => ({
      kind: 'matmul',
      problem: gemm(M, Nc, K, { batch: N, aBatched: true, bBatched: true, ...t }),
      a,
      b,
      c,
    });
    return {
      forward: [
        {
          kind: 'dispatch',
          family: FAMILY,
          entry: 'mb_build_qkv',
          constants: { WG: WG_1D },
          workgroups: Math.ceil(total / WG_1D),
          params: { ...base, total },
          bind: { proj: 'proj', perm: 'perm', consts: 'consts', out: 'Q', out2: 'K', out3: 'v' },
        },
        mm(L, L, d, { transA: true }, 'Q', 'K', 'scores'),
        {
          kind: 'dispatch',
          family: 'attention',
          entry: 'softmax_fwd',
          constants: {},
          workgroups: Math.ceil((N * L) / SOFTMAX_WG),
          params: { rows: N * L, cols: L, scale: base.scale },
          bind: { x: 'scores', out: 'A' },
        },
        mm(L, 1, L, {}, 'A', 'v', 's'),
      ],
      saved: ['Q', 'K', 'v', 'A', 's'],
      backward: [
        {
          kind: 'dispatch',
          family: FAMILY,
          entry: 'mb_dscores',
          constants: { WG: WG_1D },
          workgroups: Math.ceil((N * L * L) / WG_1D),
          params: { ...base, total: N * L * L },
          bind: { proj: 'A', ds: 'ds', s_fwd: 's', gv: 'v', out: 'dU' },
        },
        mm(d, L, L, { transB: true }, 'K', 'dU', 'dq'),
        mm(d, L, L, {}, 'Q', 'dU', 'dk'),
        mm(L, 1, L, { transA: true }, 'A', 'ds', 'dv'),
        combine,
      ],
      sizes,
    };
  }
  const attnBind = { proj: 'proj', perm: 'perm', consts: 'consts' } as const;
  const bwdBind = { ...attnBind, ds: 'ds', s_fwd: 's', lse: 'lse' } as const;
  if (cfg.variant === 'fused') {
    const WG = cfg.constants['WG']!;
    const grid: [number, number, number] = [Math.ceil(L / (WG * FUSED_TQ)), N, 1];
    const step = (entry: string, bind: Record<string, MbBuffer>): MbStep => ({
      kind: 'dispatch',
      family: FAMILY,
      entry,
      constants: { WG },
      workgroups: grid,
      params: base,
      bind,
    });
    return {
      forward: [step('mb_attn_fwd', { ...attnBind, out: 's', out2: 'lse' })],
      saved: ['s', 'lse'],
      backward: [step('mb_attn_bwd_q', { ...bwdBind, out: 'dq' }), step('mb_attn_bwd_k', { ...bwdBind, out: 'dk', out2: 'dv' }), combine],
      sizes,
    };
  }
  if (cfg.variant === 'tiled') {
    const c = cfg.constants;
    const { SMEM, TILES } = tiledSmem(c);
    const constants = { ...c, SMEM, TILES };
    const nqb = Math.ceil(L / c['BQ']!);
    const nkb = Math.ceil(L / c['BK']!);
    return {
      forward: [
        {
          kind: 'dispatch',
          family: TILED_FAMILY,
          entry: 'mb_attn_fwd_tiled',
          constants,
          workgroups: [nqb, N, 1],
          params: base,
          bind: { ...attnBind, out: 's', out2: 'lse' },
        },
      ],
      saved: ['s', 'lse'],
      backward: [
        {
          kind: 'dispatch',
          family: TILED_FAMILY,
          entry: 'mb_attn_bwd_tiled',
          constants,
          workgroups: [nqb, nkb, N],
          params: base,
          bind: { ...bwdBind, out: 'dq', out2: 'dkv' },
        },
        // dK and dv arrive packed in one buffer; gv is not read (bound to it too, as a placeholder).
        { ...combine, params: { ...combine.params, kv_packed: 1 }, bind: { ...combine.bind, gk: 'dkv', gv: 'dkv' } },
      ],
      sizes,
    };
  }
  throw new Error(`mixBlockLogits: unknown attention variant '${cfg.variant}'`);
}

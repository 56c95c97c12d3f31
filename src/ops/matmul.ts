/**
 * Batched matmul with transposes and a bias + ReLU epilogue, and its backward
 * rule. Five kernels (variants below), chosen per adapter and shape by the
 * autotuner (src/tune/): kernels/matmul_sg.wgsl (8-wide subgroups, lavapipe),
 * kernels/matmul.wgsl (any shape, any adapter), kernels/matmul_tiled.wgsl and
 * kernels/matmul_tiled_v4.wgsl (workgroup-memory tiles for GPUs), and
 * kernels/matmul_subgroup.wgsl (subgroups of any fixed width: A shared by
 * subgroupShuffle, no workgroup memory).
 *
 * Every kernel has an ACCUMULATE epilogue (C = C + result, after the full
 * sum: the bits of a matmul and a separate acc_add): the backward adds the
 * gradient of a leaf that has a `.grad` (a parameter) straight into it, and so
 * does the reduction that finishes a bias's or a shared operand's gradient
 * (src/autograd/leaf-grad.ts). The flag is not part of the tuned problem: the
 * tuner times and compares configs on its own buffers with the plain store,
 * and the op adds ACCUMULATE to whatever config it chose, so one cached choice
 * serves both (every variant has the epilogue).
 */
import { record } from '../autograd/record.js';
import type { GraphNode } from '../autograd/graph.js';
import { gradTarget } from '../autograd/leaf-grad.js';
import { ShapeError } from '../device/errors.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { accumulateInto, reluGrad } from './elementwise.js';
import { kernelForms } from './kernel-forms.js';
import { foldedGrid } from '../util/grid.js';
import { fillWith } from './creation.js';
import { assertF32, fitWg, rankGpuTiles, sameEngine } from './launch.js';
import { sumToShape, sumToShapeInto } from './reduce.js';
import type { Engine } from '../engine.js';
import { tunerOf } from '../tune/tuner.js';
import type { ChoiceSource, TuneConfig, TuneFamily, TuneLaunch } from '../tune/types.js';

declare module '../autograd/payloads.js' {
  interface OpPayloads {
    /** saves the output c too when act is 'relu' */
    matmul: { attrs: { transA: boolean; transB: boolean; act: string }; saved: [a: Tensor, b: Tensor, c?: Tensor] };
  }
}

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Added to every row: shape [N]. */
  bias?: Tensor | null;
  activation?: 'none' | 'relu';
}

export interface MatmulRawOptions extends MatmulOptions {
  /**
   * Adds the product into this tensor in place (its size is the output's)
   * instead of returning a new one: C = C + act(op(A)·op(B) + bias) in the
   * kernel's epilogue (ACCUMULATE), bit for bit a matmul then acc_add.
   * matmulRaw returns it.
   */
  accumulate?: Tensor | null;
}

const GENERAL_TILE = 32; // WG_X·TM = WG_Y·TN, see matmul.wgsl

interface Dims {
  batch: number;
  M: number;
  N: number;
  K: number;
  aBatched: boolean;
  bBatched: boolean;
}

function dims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Dims {
  if (a.ndim < 2 || a.ndim > 3 || b.ndim < 2 || b.ndim > 3) {
    throw new ShapeError(`matmul: operands must be 2-D or 3-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const ar = a.shape.slice(-2) as [number, number];
  const br = b.shape.slice(-2) as [number, number];
  const [M, Ka] = transA ? [ar[1], ar[0]] : ar;
  const [Kb, N] = transB ? [br[1], br[0]] : br;
  if (Ka !== Kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${Ka} vs ${Kb})`,
    );
  }
  const ab = a.ndim === 3 ? a.shape[0]! : 1;
  const bb = b.ndim === 3 ? b.shape[0]! : 1;
  if (a.ndim === 3 && b.ndim === 3 && ab !== bb) {
    throw new ShapeError(`matmul: batch sizes differ: ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return { batch: Math.max(ab, bb), M, N, K: Ka, aBatched: a.ndim === 3, bBatched: b.ndim === 3 };
}

// ---- variants ----------------------------------------------------------------
//
// Four kernels compute the same thing (docs/kernels/matmul.md):
//   general   kernels/matmul.wgsl          any shape, any adapter; 4×4 registers, no workgroup memory
//   sg8       kernels/matmul_sg.wgsl       8-lane subgroups (lavapipe), vec4 shapes; TM rows × 32
//   tiled     kernels/matmul_tiled.wgsl    workgroup-memory tiles, any shape (scalar loads)
//   tiled_v4  kernels/matmul_tiled_v4.wgsl the same with vec4 loads and stores, vec4 shapes
//   splitk    tiled_v4 over chunks of k into parts (KCHUNK), then its matmul_splitk_sum entry sums
//             them: for a long K and a small output (a ViT's weight gradients, K = batch·tokens)
// Which one runs is the autotuner's choice (src/tune/): the static rule below
// without a measurement, the cached or measured winner otherwise.

/** A matmul as the tuner sees it: shape, layout flags and epilogue. */
export interface MatmulProblem extends Dims {
  transA: boolean;
  transB: boolean;
  bias: boolean;
  act: 'none' | 'relu';
}

/** [BM, BN, BK, TM, TN] of the workgroup-tiled variants (see matmul_tiled_v4.wgsl). */
export type Tile = readonly [number, number, number, number, number];

// Candidates of the tiled variants. GPU-sized tiles (64–128 square, 8×8
// registers, 64–256 invocations), small ones for thin or small problems, and
// two with few invocations and large register tiles that suit CPU adapters.
export const MATMUL_TILES: readonly Tile[] = [
  [128, 128, 16, 8, 8],
  [128, 128, 8, 8, 8],
  [128, 64, 16, 8, 8],
  [64, 128, 16, 8, 8],
  [64, 64, 32, 8, 8],
  [64, 64, 16, 8, 8],
  [64, 64, 16, 4, 4],
  [32, 64, 32, 4, 8],
  [32, 32, 32, 4, 4],
  [32, 32, 16, 4, 4],
  [16, 64, 16, 2, 8],
  [64, 16, 16, 8, 4],
  [16, 16, 16, 2, 4],
  [32, 32, 32, 8, 8],
  [64, 32, 32, 16, 4],
];
/** Tiles tried first on CPU adapters (few invocations, large register tiles). */
const CPU_TILES: readonly Tile[] = [
  [32, 32, 32, 8, 8],
  [64, 32, 32, 16, 4],
  [64, 64, 32, 8, 8],
  [32, 64, 32, 4, 8],
];
const SG8_TM = [32, 24, 16, 8] as const;
/** [TM, CN] of the subgroup variant: rows per workgroup, vec4 columns per invocation. */
const SUBGROUP_TILES: readonly (readonly [number, number])[] = [
  [16, 2],
  [32, 1],
  [16, 1],
  [8, 2],
  [8, 1],
];

/** Tiles of the split-K variant (a GPU's: 64–256 invocations). */
export const SPLITK_TILES: readonly Tile[] = [
  [64, 64, 16, 8, 8],
  [32, 64, 32, 4, 8],
  [32, 32, 16, 4, 4],
];
/** Workgroups the split-K chunking aims for (chunks of at least 2·BK values). */
const SPLITK_TARGETS = [512, 2048] as const;

/**
 * Split-K configs for a problem: each tile with the chunk length (KCHUNK, a multiple of BK) that
 * gives about each target's workgroups; none where a chunk would hold less than 2·BK values.
 */
export function splitkConfigs(p: MatmulProblem): TuneConfig[] {
  const out: TuneConfig[] = [];
  const seen = new Set<string>();
  for (const t of SPLITK_TILES) {
    const [BM, BN, BK, TM, TN] = t;
    const outputs = Math.ceil(p.M / BM) * Math.ceil(p.N / BN) * p.batch;
    for (const target of SPLITK_TARGETS) {
      const S = Math.min(Math.ceil(target / outputs), Math.floor(p.K / (2 * BK)));
      if (S < 2) continue;
      const KCHUNK = Math.ceil(p.K / S / BK) * BK;
      const key = `${t.join(',')}:${KCHUNK}`;
      if (KCHUNK >= p.K || seen.has(key)) continue;
      seen.add(key);
      out.push({ variant: 'splitk', constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN), KCHUNK } });
    }
  }
  return out;
}

/** Chunks of a split-K config. */
const splitCount = (p: MatmulProblem, c: Record<string, number>) => Math.ceil(p.K / c['KCHUNK']!);

const tileConfig = (variant: 'tiled' | 'tiled_v4', [BM, BN, BK, TM, TN]: Tile): TuneConfig => ({
  variant,
  constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN) },
});

/** Every operand can be read as vec4: N % 4 (C, B), and the contiguous dimension of A (and of Bᵀ). */
function vec4Layout(p: MatmulProblem): boolean {
  return p.N % 4 === 0 && (p.transA ? p.M % 4 === 0 : p.K % 4 === 0) && (!p.transB || p.K % 4 === 0);
}

/**
 * Whether the 8-wide-subgroup kernel (kernels/matmul_sg.wgsl) applies: the
 * device has subgroups of exactly 8 lanes (llvmpipe with 256-bit vectors),
 * and every operand's contiguous dimension is a multiple of 4 (vec4 loads);
 * it steps k four at a time, so K must be a multiple of 4 in every layout.
 * Measured on lavapipe it is 4–6× faster than matmul.wgsl (docs/kernels/matmul.md).
 */
function sg8Applies(engine: Engine, p: MatmulProblem): boolean {
  return engine.ctx.subgroups8 && p.N % 4 === 0 && p.K % 4 === 0 && (!p.transA || p.M % 4 === 0);
}

/** The subgroup variant's layout needs: C and B as vec4 (N % 4), Bᵀ along k (K % 4); A any. */
function subgroupLayout(p: MatmulProblem): boolean {
  return p.N % 4 === 0 && (!p.transB || p.K % 4 === 0);
}

/** Subgroup-variant configs (TM rows, CN vec4 columns per invocation, WG invocations) for a width. */
function subgroupConfigs(p: MatmulProblem, width: number): TuneConfig[] {
  const out: TuneConfig[] = [];
  const cols = Math.max(4, pow2ceil(p.N));
  for (const WG of [...new Set([64, 128, width])].filter((w) => w % width === 0).sort((x, y) => y - x)) {
    for (const [TM, CN] of SUBGROUP_TILES) {
      // Tiles much wider or taller than the problem only add idle invocations.
      if (4 * CN * WG > 2 * cols || TM > Math.max(8, pow2ceil(p.M))) continue;
      out.push({ variant: 'subgroup', constants: { TM, CN, WG, SGW: width } });
    }
  }
  return out;
}

function tileFits(engine: Engine, p: MatmulProblem, c: Record<string, number>): boolean {
  const { BM, BN, BK, TM, TN, WG } = c as Record<'BM' | 'BN' | 'BK' | 'TM' | 'TN' | 'WG', number>;
  if (![BM, BN, BK, TM, TN, WG].every((v) => Number.isInteger(v) && v! > 0)) return false;
  if (TN! % 4 || BK! % 4 || BM! % 4 || BM! % TM! || BN! % TN! || TM! > 16 || TM! * TN! > 64) return false;
  if (WG !== (BM! / TM!) * (BN! / TN!)) return false;
  // The v4 loaders hold an invocation's share of each tile in 16 vec4 registers (4 per transposed block).
  const share = (n4: number) => Math.max(Math.ceil(n4 / WG!), 4 * Math.ceil(n4 / 4 / WG!));
  if (share((BM! * BK!) / 4) > 16 || share((BK! * BN!) / 4) > 16) return false;
  const l = engine.limits;
  if (WG! > l.maxComputeInvocationsPerWorkgroup || WG! > l.maxComputeWorkgroupSizeX) return false;
  if (4 * (BM! + BN!) * BK! > l.maxComputeWorkgroupStorageSize) return false;
  const maxDim = l.maxComputeWorkgroupsPerDimension;
  return Math.ceil(p.N / BN!) <= maxDim && Math.ceil(p.M / BM!) <= maxDim && p.batch <= maxDim;
}

function validConfig(engine: Engine, p: MatmulProblem, cfg: TuneConfig): boolean {
  const c = cfg.constants;
  switch (cfg.variant) {
    case 'general':
      return Object.keys(c).length === 0;
    case 'sg8':
      return sg8Applies(engine, p) && (SG8_TM as readonly number[]).includes(c['TM']!) && Object.keys(c).length === 1;
    case 'tiled':
      return c['PREFETCH'] === undefined && tileFits(engine, p, c);
    case 'tiled_v4':
      return vec4Layout(p) && tileFits(engine, p, c) && (c['PREFETCH'] === undefined || c['PREFETCH'] === 1);
    case 'splitk': {
      const { KCHUNK, BK } = c as Record<'KCHUNK' | 'BK', number>;
      if (Object.keys(c).length !== 7 || !vec4Layout(p) || !tileFits(engine, p, c)) return false;
      if (!(Number.isInteger(KCHUNK) && KCHUNK! > 0 && KCHUNK! % BK! === 0 && KCHUNK! < p.K)) return false;
      const S = splitCount(p, c);
      const l = engine.limits;
      return p.batch * S <= l.maxComputeWorkgroupsPerDimension && S * p.batch * p.M * p.N * 4 <= l.maxStorageBufferBindingSize;
    }
    case 'subgroup': {
      const { TM, CN, WG, SGW } = c as Record<'TM' | 'CN' | 'WG' | 'SGW', number>;
      const l = engine.limits;
      return (
        Object.keys(c).length === 4 &&
        subgroupLayout(p) &&
        SGW === engine.ctx.subgroupWidth &&
        SUBGROUP_TILES.some(([tm, cn]) => tm === TM && cn === CN) &&
        Number.isInteger(WG) &&
        WG! > 0 &&
        WG! % SGW! === 0 &&
        WG! <= l.maxComputeInvocationsPerWorkgroup &&
        WG! <= l.maxComputeWorkgroupSizeX &&
        Math.ceil(p.N / (4 * CN! * WG!)) <= l.maxComputeWorkgroupsPerDimension &&
        Math.ceil(p.M / TM!) <= l.maxComputeWorkgroupsPerDimension &&
        p.batch <= l.maxComputeWorkgroupsPerDimension
      );
    }
    default:
      return false;
  }
}

/**
 * sg8's time per row of a tile, relative to TM 32, by TM (lavapipe, 2026-12-06,
 * process CPU time, interleaved: bench/scratch/matmul-configs.ts): TM 24 is
 * 13–20 % faster per row than TM 32 at 256³…1024³ in NN, NT and TN and on the
 * conv GEMMs (fewer accumulators to spill); TM 16 ≈ TM 32; TM 8 ≈ 15 % slower.
 */
const SG8_ROW_COST: Record<number, number> = { 32: 1, 24: 0.85, 16: 1, 8: 1.15 };

/**
 * The static TM of sg8: the one with the least padded rows × row cost
 * (⌈M/TM⌉·TM·SG8_ROW_COST), ties to the larger TM: 8 for M ≤ 8, 16 for
 * M ≤ 16, 24 for 17–24, 32 for 25–32, then 24 (M = 64: 72 rows at 0.85 beat
 * 64 at 1) except where 32 pads much less. TM never changes the summation
 * order of an output (k ascending, 4 at a time), so every TM gives the same
 * bits.
 */
export function sg8StaticTM(M: number): number {
  let best = 32;
  let cost = Number.POSITIVE_INFINITY;
  for (const TM of SG8_TM) {
    const c = Math.ceil(M / TM) * TM * SG8_ROW_COST[TM]!;
    if (c < cost - 1e-9) {
      best = TM;
      cost = c;
    }
  }
  return best;
}

/**
 * The rule used without a measurement (and in tune mode 'off'): sg8 where 8-lane subgroups
 * apply; on a GPU's rules (Engine.kernelRules) the first of its ranked tiles that fits, with
 * vec4 loads where the layout allows (the old `general` kernel measured 0.41× TF.js on an H100,
 * docs/performance.md); else general.
 */
function staticConfig(engine: Engine, p: MatmulProblem): TuneConfig {
  if (sg8Applies(engine, p)) return { variant: 'sg8', constants: { TM: sg8StaticTM(p.M) } };
  if (engine.kernelRules === 'gpu') {
    const tile = tileConfigs(p, gpuTileOrder(p)).find((c) => validConfig(engine, p, c));
    if (tile) return tile;
  }
  return { variant: 'general', constants: {} };
}

const pow2ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * GPUs: the largest tiles that still give a few hundred workgroups first; where none does (a
 * small output), the tiles with the most workgroups first — a large tile there would leave most
 * of the GPU idle (M = N = 192 on 128×128 tiles: 4 workgroups).
 */
function gpuTileOrder(p: MatmulProblem): Tile[] {
  const wgs = ([BM, BN]: Tile) => Math.ceil(p.M / BM) * Math.ceil(p.N / BN) * p.batch;
  return rankGpuTiles(MATMUL_TILES, wgs, 256);
}

/** The tiled configs of `tiles` that suit the problem (vec4 first where the layout allows). */
function tileConfigs(p: MatmulProblem, tiles: readonly Tile[]): TuneConfig[] {
  // Tiles much larger than the problem only add idle invocations.
  const fitsProblem = ([BM, BN]: Tile) => BM <= Math.max(16, pow2ceil(p.M)) && BN <= Math.max(16, pow2ceil(p.N));
  return tiles.filter(fitsProblem).flatMap((t) => [...(vec4Layout(p) ? [tileConfig('tiled_v4', t)] : []), tileConfig('tiled', t)]);
}

function candidates(engine: Engine, p: MatmulProblem): TuneConfig[] {
  const out: TuneConfig[] = [];
  const width = engine.ctx.subgroupWidth;
  if (engine.kernelRules === 'cpu') {
    if (sg8Applies(engine, p)) for (const TM of SG8_TM) if (TM === 8 || TM <= pow2ceil(p.M)) out.push({ variant: 'sg8', constants: { TM } });
    out.push(...tileConfigs(p, CPU_TILES));
    out.push({ variant: 'general', constants: {} });
    out.push(
      ...tileConfigs(
        p,
        MATMUL_TILES.filter((t) => !CPU_TILES.includes(t)),
      ),
    );
    if (width && subgroupLayout(p)) out.push(...subgroupConfigs(p, width));
  } else {
    // The subgroup configs after the four most promising tiles, so a tuning budget that ends early
    // still times some; split-K right after the first tile where the output is small for its K
    // (fewer 64×64 tiles than a GPU has cores to fill).
    const tiles = tileConfigs(p, gpuTileOrder(p));
    const split = vec4Layout(p) ? splitkConfigs(p) : [];
    const tallK = Math.ceil(p.M / 64) * Math.ceil(p.N / 64) * p.batch < 256 && p.K >= 4 * Math.max(p.M, p.N);
    out.push(...tiles.slice(0, 1));
    if (tallK) out.push(...split);
    out.push(...tiles.slice(1, 4));
    // The first two vec4 tiles again, fetching each next tile during the products.
    out.push(
      ...tiles
        .filter((t) => t.variant === 'tiled_v4')
        .slice(0, 2)
        .map((t) => ({ ...t, constants: { ...t.constants, PREFETCH: 1 } })),
    );
    if (width && subgroupLayout(p)) out.push(...subgroupConfigs(p, width));
    if (!tallK) out.push(...split);
    out.push(...tiles.slice(4));
    out.push({ variant: 'general', constants: {} });
    if (sg8Applies(engine, p)) for (const TM of SG8_TM) out.push({ variant: 'sg8', constants: { TM } });
  }
  return out.filter((c) => validConfig(engine, p, c));
}

const KERNEL: Record<string, { family: string; entry: string }> = {
  general: { family: 'matmul', entry: 'matmul' },
  sg8: { family: 'matmul_sg', entry: 'matmul_sg8' },
  tiled: { family: 'matmul_tiled', entry: 'matmul_tiled' },
  tiled_v4: { family: 'matmul_tiled_v4', entry: 'matmul_tiled_v4' },
  subgroup: { family: 'matmul_subgroup', entry: 'matmul_subgroup' },
};

function launch(engine: Engine, p: MatmulProblem, cfg: TuneConfig): TuneLaunch {
  const c = cfg.constants;
  const flags = { TRANS_A: p.transA ? 1 : 0, TRANS_B: p.transB ? 1 : 0, HAS_BIAS: p.bias ? 1 : 0, ACT: p.act === 'relu' ? 1 : 0 };
  if (cfg.variant === 'splitk') {
    // The parts (no epilogue), then their sum with it; the bench buffer 'part' holds the parts.
    const S = splitCount(p, c);
    const total4 = (p.batch * p.M * p.N) / 4;
    const sumWg = fitWg(engine);
    return {
      ...KERNEL['tiled_v4']!,
      constants: { ...flags, HAS_BIAS: 0, ACT: 0, ...c },
      workgroups: [Math.ceil(p.N / c['BN']!), Math.ceil(p.M / c['BM']!), p.batch * S],
      bind: { c: 'part' },
      next: [
        {
          ...KERNEL['tiled_v4']!,
          entry: 'matmul_splitk_sum',
          constants: { HAS_BIAS: flags.HAS_BIAS, ACT: flags.ACT, KCHUNK: c['KCHUNK']!, WG: sumWg },
          workgroups: foldedGrid(Math.ceil(total4 / sumWg), engine.limits.maxComputeWorkgroupsPerDimension),
          // The parts are read where A is bound.
          bind: { a: 'part' },
        },
      ],
    };
  }
  const k = KERNEL[cfg.variant];
  if (!k) throw new Error(`matmul: unknown variant '${cfg.variant}'`);
  let workgroups: [number, number, number];
  if (cfg.variant === 'general') workgroups = [Math.ceil(p.N / GENERAL_TILE), Math.ceil(p.M / GENERAL_TILE), p.batch];
  else if (cfg.variant === 'sg8') workgroups = [Math.ceil(p.N / 32), Math.ceil(p.M / c['TM']!), p.batch];
  else if (cfg.variant === 'subgroup') workgroups = [Math.ceil(p.N / (4 * c['CN']! * c['WG']!)), Math.ceil(p.M / c['TM']!), p.batch];
  else workgroups = [Math.ceil(p.N / c['BN']!), Math.ceil(p.M / c['BM']!), p.batch];
  return { ...k, constants: { ...flags, ...c }, workgroups };
}

function params(p: MatmulProblem) {
  return {
    M: p.M,
    N: p.N,
    K: p.K,
    batch: p.batch,
    a_batch_stride: p.aBatched ? p.M * p.K : 0,
    b_batch_stride: p.bBatched ? p.K * p.N : 0,
  };
}

/**
 * Runs `config` on `p` over the given operands (what matmulRaw and a dispatch list's GEMM do):
 * one dispatch, or for split-K the parts into a pooled temporary, then their sum into c.
 * `accumulate`: c = c + result (the ACCUMULATE epilogue).
 */
export function runMatmul(
  engine: Engine,
  p: MatmulProblem,
  config: TuneConfig,
  bind: { a: Tensor | GPUBuffer; b: Tensor | GPUBuffer; bias: Tensor | GPUBuffer; c: Tensor | GPUBuffer },
  accumulate: boolean,
): void {
  const l = launch(engine, p, config);
  if (config.variant !== 'splitk') {
    engine.run(l.family, l.entry, { bind, params: params(p), constants: { ...l.constants, ACCUMULATE: accumulate ? 1 : 0 }, workgroups: l.workgroups });
    return;
  }
  const sum = l.next![0]!;
  const part = engine.empty([splitCount(p, config.constants) * p.batch * p.M * p.N]);
  try {
    engine.run(l.family, l.entry, { bind: { ...bind, c: part }, params: params(p), constants: { ...l.constants, ACCUMULATE: 0 }, workgroups: l.workgroups });
    engine.run(sum.family, sum.entry, {
      bind: { a: part, bias: bind.bias, c: bind.c },
      params: params(p),
      constants: { ...sum.constants, ACCUMULATE: accumulate ? 1 : 0 },
      workgroups: sum.workgroups,
    });
  } finally {
    part.dispose();
  }
}

/** A config's short name: 'tiled_v4 64×64×16 8×8', 'splitk 64×64×16 8×8 k384', 'sg8 TM32', 'general'. */
export function describeMatmulConfig(cfg: TuneConfig): string {
  const c = cfg.constants;
  if (cfg.variant === 'splitk') return `splitk ${c['BM']}×${c['BN']}×${c['BK']} ${c['TM']}×${c['TN']} k${c['KCHUNK']}`;
  if (cfg.variant === 'sg8') return `sg8 TM${c['TM']}`;
  if (cfg.variant === 'subgroup') return `subgroup${c['SGW']} TM${c['TM']} CN${c['CN']} WG${c['WG']}`;
  if (cfg.variant === 'tiled' || cfg.variant === 'tiled_v4')
    return `${cfg.variant} ${c['BM']}×${c['BN']}×${c['BK']} ${c['TM']}×${c['TN']}${c['PREFETCH'] ? ' prefetch' : ''}`;
  return cfg.variant;
}

/** The matmul family for the autotuner. */
export const MATMUL_TUNING: TuneFamily<MatmulProblem> = {
  name: 'matmul',
  // 2: the subgroup variant joined the candidates (2026-12-06); 3: split-K, and candidates are
  // checked against general (the reference), not the static rule (2026-12-06)
  version: 3,
  key: (p) =>
    `${p.M}x${p.N}x${p.K} b${p.batch}${p.aBatched ? 'A' : ''}${p.bBatched ? 'B' : ''} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}${p.bias ? ' bias' : ''}${p.act === 'relu' ? ' relu' : ''}`,
  staticConfig,
  candidates,
  valid: validConfig,
  // One invocation per output element, registers only: what every tuned matmul is checked against.
  reference: () => ({ variant: 'general', constants: {} }),
  launch,
  benchBuffers: (p) => ({
    sizes: {
      a: (p.aBatched ? p.batch : 1) * p.M * p.K,
      b: (p.bBatched ? p.batch : 1) * p.K * p.N,
      bias: Math.max(1, p.N),
      c: p.batch * p.M * p.N,
      // The split-K parts, at the most chunks any candidate makes.
      part: Math.max(1, ...splitkConfigs(p).map((c) => splitCount(p, c.constants) * p.batch * p.M * p.N)),
    },
    inputs: ['a', 'b', 'bias'],
    output: 'c',
    params: params(p),
  }),
  tolerance: (p) => MATMUL_VARIANT_RTOL * Math.sqrt(p.K),
  describe: describeMatmulConfig,
};

/**
 * Two variants' outputs may differ by at most this · √K · max |C| (+ 1e-6):
 * they sum the K products in different orders. The tuner rejects a candidate
 * beyond it, and the tests hold every variant to it (docs/kernels/matmul.md).
 */
export const MATMUL_VARIANT_RTOL = 2e-6;

function problemOf(a: Tensor, b: Tensor, o: MatmulOptions): MatmulProblem {
  const transA = o.transA ?? false;
  const transB = o.transB ?? false;
  return { ...dims(a, b, transA, transB), transA, transB, bias: !!o.bias, act: o.activation === 'relu' ? 'relu' : 'none' };
}

/** Which configuration `matmul(a, b, o)` would run now, and why (bench column, tests). */
export function matmulChoice(a: Tensor, b: Tensor, o: MatmulOptions = {}): { config: TuneConfig; source: ChoiceSource; name: string } {
  const c = tunerOf(a.engine).choose(MATMUL_TUNING, problemOf(a, b, o));
  return { ...c, name: describeMatmulConfig(c.config) };
}

/** The raw launcher: no autograd. */
export function matmulRaw(a: Tensor, b: Tensor, o: MatmulRawOptions = {}): Tensor {
  assertF32('matmul', a, b);
  const engine = sameEngine('matmul', a, b);
  const p = problemOf(a, b, o);
  if (o.bias && (o.bias.ndim !== 1 || o.bias.shape[0] !== p.N)) {
    throw new ShapeError(`matmul: bias must have shape [${p.N}], got ${fmtShape(o.bias.shape)}`);
  }
  const outShape = a.ndim === 3 || b.ndim === 3 ? [p.batch, p.M, p.N] : [p.M, p.N];
  const into = o.accumulate ?? null;
  if (into) {
    const n = outShape.reduce((x, y) => x * y, 1);
    if (into.size !== n) throw new ShapeError(`matmul: cannot accumulate a ${fmtShape(outShape)} product into ${fmtShape(into.shape)}`);
    if (n === 0) return into;
    if (p.K === 0) {
      // Zeros, added as the separate add would (−0 + 0 is +0).
      const z = matmulRaw(a, b, { ...o, accumulate: null });
      accumulateInto(into, z);
      z.dispose();
      return into;
    }
  }
  const c = into ?? engine.empty(outShape);
  if (c.size === 0) return c;
  if (p.K === 0) {
    return fillWith(c, 0);
  }
  const { config } = tunerOf(engine).choose(MATMUL_TUNING, p);
  runMatmul(engine, p, config, { a, b, bias: o.bias ?? engine.placeholder(), c }, !!into);
  return c;
}

/** op(A)·op(B) (+ bias, then ReLU), batched over a leading dimension. */
export function matmul(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
  const c = matmulRaw(a, b, o);
  const attrs = { transA: o.transA ?? false, transB: o.transB ?? false, act: o.activation ?? 'none' };
  return record(c, 'matmul', [a, b, o.bias ?? null], attrs.act === 'relu' ? [a, b, c] : [a, b], attrs);
}

/**
 * dA = dC·op(B)ᵀ (transposed as op(A) was), dB = op(A)ᵀ·dC, dbias = Σ_rows dC.
 * A leaf with a `.grad` gets its gradient added in place (gradTarget, fused
 * kernel forms): by the gradient matmul's ACCUMULATE epilogue, or, for an
 * operand shared over the batch and for the bias, by the last pass of the
 * reduction that sums it; the rule then returns null for it.
 */
export function matmulBackward(node: GraphNode<'matmul'>, g: Tensor): (Tensor | null)[] {
  const { transA, transB, act } = node.attrs;
  const [a, b, c] = node.saved;
  const bias = node.inputs[2];
  const inPlace = kernelForms(g.engine).fused;
  const dC = act === 'relu' ? reluGrad(c!, g) : g;
  let dA: Tensor | null = null;
  let dB: Tensor | null = null;
  if (a.requiresGrad) {
    const into = gradTarget(a, inPlace);
    const acc = dC.ndim === a.ndim ? into : null;
    dA = transA ? matmulRaw(b, dC, { transA: transB, transB: true, accumulate: acc }) : matmulRaw(dC, b, { transB: !transB, accumulate: acc });
    dA = acc ? null : reduceBatch(dA, a.shape, into);
  }
  if (b.requiresGrad) {
    const into = gradTarget(b, inPlace);
    const acc = dC.ndim === b.ndim ? into : null;
    dB = transB ? matmulRaw(dC, a, { transA: true, transB: transA, accumulate: acc }) : matmulRaw(a, dC, { transA: !transA, accumulate: acc });
    dB = acc ? null : reduceBatch(dB, b.shape, into);
  }
  let dBias: Tensor | null = null;
  if (bias?.requiresGrad) {
    const into = gradTarget(bias, inPlace);
    if (into) sumToShapeInto(dC, [bias.shape[0]!], into);
    else dBias = sumToShape(dC, [bias.shape[0]!]);
  }
  if (dC !== g) dC.dispose();
  return [dA, dB, dBias];
}

/**
 * Sums a batched gradient over the batch when the operand was shared (into
 * `into`, in place, when given: then null).
 */
function reduceBatch(t: Tensor, shape: readonly number[], into: Tensor | null): Tensor | null {
  if (t.ndim === shape.length) return t;
  if (into) {
    sumToShapeInto(t, shape, into);
    t.dispose();
    return null;
  }
  const r = sumToShape(t, shape);
  t.dispose();
  return r;
}

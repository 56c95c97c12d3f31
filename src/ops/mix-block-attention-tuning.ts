/**
 * The autotuner's family for the Mix Block attention (src/tune/): per problem
 * (N, C, d, L, λ channel or not, forward only or training) the candidates are
 * the unfused form and the fused configurations that fit the adapter
 * (src/ops/mix-block-attention-plan.ts); a candidate is timed as the whole
 * chain of dispatches between the projection and the parameter-gradient
 * matmul — the attention forward, and for training its backward and
 * mb_combine — and its output (s, or dP for training) is checked against the
 * static rule's.
 *
 * The static rule (tune mode 'off', and before a measurement): on a GPU's
 * rules the first ranked tile that fits; on a CPU adapter's the rule this op
 * had before the tuner: the 'fused' kernels for a forward without gradient at
 * L ≤ FUSED_MAX_L, 'unfused' otherwise.
 */
import type { Engine } from '../engine.js';
import type { TuneConfig, TuneFamily, TuneLaunch } from '../tune/types.js';
import {
  attentionPlan,
  FUSED_WGS,
  fusedWg,
  MB_PARTS_BYTES,
  MB_TILES,
  type MbBuffer,
  mbBufferSizes,
  type MbShape,
  type MbTile,
  partsOf,
  tiledConfig,
  tiledSmem,
  tileWellFormed,
} from './mix-block-attention-plan.js';
import { dispatchListLaunch, PLACEHOLDER } from './dispatch-list.js';
import { rankGpuTiles } from './launch.js';

/** A Mix Block attention as the tuner sees it. */
export interface MixBlockProblem extends MbShape {
  /** Channels of z (the projection's K; part of the key, not of the timed chain). */
  C: number;
  /** With the λ channel (C' = C + 1). */
  lam: boolean;
  /** A gradient is recorded: the forward saves for the backward, and the backward is timed too. */
  training: boolean;
}

/** Longest L for which the static rule picks the 'fused' forward (forward without gradient only). */
export const FUSED_MAX_L = 64;

/**
 * Two configurations' outputs (s, or dP for training) may differ by at most
 * this · √(d·L) · max |output| (+ 1e-6): they sum the d·L products of the
 * scores and of the gradients in different orders. The tuner rejects a
 * candidate beyond it; the tests hold each configuration to the f64 reference.
 */
export const MB_VARIANT_RTOL = 1e-5;

const UNFUSED: TuneConfig = { variant: 'unfused', constants: {} };
const fused = (WG: number): TuneConfig => ({ variant: 'fused', constants: { WG } });

/** Tiles tried first on CPU adapters (few invocations, large register tiles). */
const CPU_TILES: readonly MbTile[] = [
  [64, 64, 16, 8, 8],
  [32, 32, 32, 8, 8],
  [32, 32, 32, 4, 4],
];

/**
 * The rule without a measurement: on a GPU's rules (Engine.kernelRules) the first of its ranked
 * tiles that fits (the unfused kernels measured 0.10–0.12× TF.js on an H100, docs/performance.md);
 * else, and on CPU adapters, the rule this op had before the tuner (see the file comment).
 */
export function mixBlockStaticConfig(engine: Engine, p: MixBlockProblem): TuneConfig {
  if (engine.kernelRules === 'gpu') {
    const tile = gpuTileOrder(p)
      .map(tiledConfig)
      .find((c) => mixBlockConfigValid(engine, p, c));
    if (tile) return tile;
  }
  return !p.training && p.L <= FUSED_MAX_L ? fused(fusedWg(p.L)) : UNFUSED;
}

/** The largest dQ/dK part count of a tiled candidate whose parts fit MB_PARTS_BYTES (sizes the tuner's buffers). */
function maxParts(p: MixBlockProblem): number {
  let most = 1;
  for (const t of MB_TILES) {
    const { nq, nk } = partsOf(p, tiledConfig(t));
    if (partsFit(p, nq, nk)) most = Math.max(most, nq, nk);
  }
  return most;
}

/** Bytes of the largest parts buffer: dQ [nq, N, d, L] or dK with dv [nk, N, d+1, L]. */
const partsBytes = (p: MixBlockProblem, nq: number, nk: number) => Math.max(nq * p.d, nk * (p.d + 1)) * p.N * p.L * 4;

function partsFit(p: MixBlockProblem, nq: number, nk: number): boolean {
  return partsBytes(p, nq, nk) <= MB_PARTS_BYTES;
}

export function mixBlockConfigValid(engine: Engine, p: MixBlockProblem, cfg: TuneConfig): boolean {
  const l = engine.limits;
  const maxDim = l.maxComputeWorkgroupsPerDimension;
  const c = cfg.constants;
  if (p.N > maxDim) return false;
  switch (cfg.variant) {
    case 'unfused':
      return Object.keys(c).length === 0 && p.N * p.L * p.L * 4 <= l.maxStorageBufferBindingSize;
    case 'fused':
      return Object.keys(c).length === 1 && (FUSED_WGS as readonly number[]).includes(c['WG']!) && c['WG']! <= l.maxComputeInvocationsPerWorkgroup;
    case 'tiled': {
      if (!tileWellFormed(c)) return false;
      const { nq, nk } = partsOf(p, cfg);
      if (!partsFit(p, nq, nk) || partsBytes(p, nq, nk) > l.maxStorageBufferBindingSize) return false;
      if (c['WG']! > l.maxComputeInvocationsPerWorkgroup || c['WG']! > l.maxComputeWorkgroupSizeX) return false;
      return tiledSmem(c).bytes <= l.maxComputeWorkgroupStorageSize && nq <= maxDim && nk <= maxDim;
    }
    default:
      return false;
  }
}

const pow2ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

// Blocks much longer than the map only add idle invocations.
const fitsMap = (p: MixBlockProblem, [BQ, BK]: MbTile) => BQ <= Math.max(16, pow2ceil(p.L)) && BK <= Math.max(16, pow2ceil(p.L));
const isCpuTile = (t: MbTile) => CPU_TILES.some((c) => c.every((v, i) => v === t[i]));

/**
 * GPUs: the tiles with the most work per workgroup that still give a hundred-odd workgroups
 * first; where none does, the most workgroups first.
 */
function gpuTileOrder(p: MixBlockProblem): MbTile[] {
  const wgs = ([BQ, BK]: MbTile) => Math.ceil(p.L / BQ) * (p.training ? Math.ceil(p.L / BK) : 1) * p.N;
  // Work per workgroup: its invocations, then (ties) its block area (≤ 64·64 < 2²⁰).
  const size = ([BQ, BK, , TQ, TK]: MbTile) => (BQ / TQ) * (BK / TK) * 2 ** 20 + BQ * BK;
  return rankGpuTiles(
    MB_TILES.filter((t) => fitsMap(p, t) && !isCpuTile(t)),
    wgs,
    128,
    size,
  );
}

function mixBlockCandidates(engine: Engine, p: MixBlockProblem): TuneConfig[] {
  const fusedAll = [fused(fusedWg(p.L)), ...FUSED_WGS.filter((w) => w !== fusedWg(p.L) && w <= Math.max(8, pow2ceil(p.L))).map(fused)];
  const cpuTiles = CPU_TILES.filter((t) => fitsMap(p, t)).map(tiledConfig);
  const out: TuneConfig[] = [];
  if (engine.kernelRules === 'cpu') {
    out.push(...fusedAll, UNFUSED, ...cpuTiles);
    out.push(...MB_TILES.filter((t) => fitsMap(p, t) && !isCpuTile(t)).map(tiledConfig));
  } else {
    out.push(...gpuTileOrder(p).map(tiledConfig), UNFUSED, ...fusedAll, ...cpuTiles);
  }
  return out.filter((cfg) => mixBlockConfigValid(engine, p, cfg));
}

/** A config's short name: 'unfused', 'fused WG16', 'tiled 64×64 DC16 4×4'. */
export function describeMixBlockConfig(cfg: TuneConfig): string {
  const c = cfg.constants;
  if (cfg.variant === 'fused') return `fused WG${c['WG']}`;
  if (cfg.variant === 'tiled') return `tiled ${c['BQ']}×${c['BK']} DC${c['DC']} ${c['TQ']}×${c['TK']}`;
  return cfg.variant;
}

/** The tuner's view of a plan: the forward's dispatches, then (training) the backward's, as one chain. */
function launch(engine: Engine, p: MixBlockProblem, cfg: TuneConfig): TuneLaunch {
  const plan = attentionPlan(p, cfg);
  return dispatchListLaunch(engine, p.training ? [...plan.forward, ...plan.backward] : plan.forward, `mixBlockLogits: ${describeMixBlockConfig(cfg)}`);
}

/** Every buffer any configuration of `p` binds, sized for the largest (the tiled parts at their most). */
function benchBuffers(p: MixBlockProblem) {
  const parts = maxParts(p);
  const sizes: Record<MbBuffer | typeof PLACEHOLDER, number> = { ...mbBufferSizes(p, { nq: parts, nk: parts }), [PLACEHOLDER]: 1 };
  // A permutation, not random bits: the gather's cost depends on how many partners each sample has.
  const perm = Int32Array.from({ length: p.N }, (_, n) => (n + Math.floor(p.N / 3) + 1) % p.N);
  return { sizes, inputs: ['proj', 'perm', 'consts', 'ds'], output: p.training ? 'dP' : 's', params: {}, data: { perm } };
}

/** The Mix Block attention family for the autotuner. */
export const MIX_BLOCK_TUNING: TuneFamily<MixBlockProblem> = {
  name: 'mix_block_attention',
  // 2: candidates are checked against the fused kernels (the reference), not the static rule (2026-12-06)
  version: 2,
  key: (p) => `N${p.N} C${p.C} d${p.d} L${p.L}${p.lam ? ' lam' : ''} ${p.training ? 'train' : 'fwd'}`,
  staticConfig: mixBlockStaticConfig,
  candidates: mixBlockCandidates,
  valid: mixBlockConfigValid,
  // The fused kernels (a thread per query, no workgroup memory): what every tuned attention is checked against.
  reference: (_e, p) => fused(fusedWg(p.L)),
  launch,
  benchBuffers,
  tolerance: (p) => MB_VARIANT_RTOL * Math.sqrt(p.d * p.L),
  describe: describeMixBlockConfig,
};

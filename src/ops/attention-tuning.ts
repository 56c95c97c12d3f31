/**
 * The autotuner's family for the token-major multi-head attention
 * (attentionTokens, src/ops/attention.ts; forms in src/ops/attention-plan.ts):
 * per problem (N, H, Lq, Lk, dh, dv, forward only or training) the candidates
 * are the unfused form and the fused configurations that fit the adapter; a
 * candidate is timed as its whole chain of dispatches — the forward, and for
 * training the backward too — and its output (out, or dq for training) is
 * checked against the fused form's (the family's reference), the static rule's included.
 *
 * The static rule (tune mode 'off', and before a measurement), see
 * docs/kernels/attention.md:
 *  - CPU adapters (lavapipe): CPU_STATIC, measured on llvmpipe;
 *  - GPUs: 'tiled' (the first tile whose workgroup memory fits), else
 *    'fused', else 'unfused': the fused forms remove the [Lq, Lk] passes over
 *    memory and 13 of 16 dispatches per training step. This choice awaits a
 *    GPU measurement.
 */
import type { Engine } from '../engine.js';
import type { TuneConfig, TuneFamily, TuneLaunch } from '../tune/types.js';
import {
  type AttnBuffer,
  type AttnShape,
  attnBufferSizes,
  attnPlan,
  FUSED_MAX_D,
  FUSED_WGS,
  fusedConfig,
  fusedWg,
  TILED_TILES,
  tiledConfig,
  tiledSmemBytes,
  UNFUSED,
} from './attention-plan.js';
import { dispatchListLaunch, PLACEHOLDER } from './dispatch-list.js';

/** An attention as the tuner sees it. */
export interface AttentionProblem extends AttnShape {
  /** A gradient is recorded: the backward is timed too. */
  training: boolean;
}

/**
 * Two configurations' outputs may differ by at most this · √(max(dh, dv)·Lk)
 * · max |output| (+ 1e-6): they sum the scores and products in different
 * orders. The tests hold each configuration to the f64 reference.
 */
export const ATTN_VARIANT_RTOL = 1e-5;

/** The form CPU adapters take without a measurement: see docs/kernels/attention.md (llvmpipe). */
export const CPU_STATIC: 'fused' | 'unfused' = 'unfused';

/** The scale the tuner times with (any finite value does; 1/√dh as the ViT uses). */
const benchScale = (p: AttnShape) => 1 / Math.sqrt(p.dh);

export function attentionConfigValid(engine: Engine, p: AttentionProblem, cfg: TuneConfig): boolean {
  const l = engine.limits;
  const maxDim = l.maxComputeWorkgroupsPerDimension;
  const c = cfg.constants;
  const sizes = attnBufferSizes(p);
  switch (cfg.variant) {
    case 'unfused':
      return Object.keys(c).length === 0 && sizes.scores * 4 <= l.maxStorageBufferBindingSize && p.N * p.H <= maxDim;
    case 'fused':
    case 'tiled': {
      if (p.dh > FUSED_MAX_D || p.dv > FUSED_MAX_D || p.N * p.H > maxDim) return false;
      const WG = c['WG']!;
      if (!Number.isInteger(WG) || WG > l.maxComputeInvocationsPerWorkgroup || WG > l.maxComputeWorkgroupSizeX) return false;
      if (Math.ceil(Math.max(p.Lq, p.Lk) / WG) > maxDim) return false;
      if (cfg.variant === 'fused') return Object.keys(c).length === 1 && (FUSED_WGS as readonly number[]).includes(WG);
      return Object.keys(c).length === 2 && TILED_TILES.some(([w, b]) => w === WG && b === c['BK']) && tiledSmemBytes(p, c) <= l.maxComputeWorkgroupStorageSize;
    }
    default:
      return false;
  }
}

/** The rule without a measurement: see the file comment. */
export function attentionStaticConfig(engine: Engine, p: AttentionProblem): TuneConfig {
  const fused = fusedConfig(fusedWg(p));
  if (engine.kernelRules === 'cpu') return CPU_STATIC === 'fused' && attentionConfigValid(engine, p, fused) ? fused : UNFUSED;
  const tiled = TILED_TILES.map(tiledConfig).find((c) => attentionConfigValid(engine, p, c));
  if (tiled) return tiled;
  return attentionConfigValid(engine, p, fused) ? fused : UNFUSED;
}

function attentionCandidates(engine: Engine, p: AttentionProblem): TuneConfig[] {
  const st = attentionStaticConfig(engine, p);
  const fused = [fusedConfig(fusedWg(p)), ...FUSED_WGS.filter((w) => w !== fusedWg(p)).map(fusedConfig)];
  const tiled = TILED_TILES.map(tiledConfig);
  // CPU adapters: no tiled candidates (llvmpipe takes seconds to build each of their pipelines, and they
  // run the fused kernels' arithmetic with barriers added).
  const rest = engine.kernelRules === 'cpu' ? [UNFUSED, ...fused] : [...tiled, ...fused, UNFUSED];
  const same = (a: TuneConfig, b: TuneConfig) => a.variant === b.variant && JSON.stringify(a.constants) === JSON.stringify(b.constants);
  return [st, ...rest.filter((c) => !same(c, st))].filter((c) => attentionConfigValid(engine, p, c));
}

/** A config's short name: 'unfused', 'fused WG64', 'tiled WG64 BK16'. */
export function describeAttentionConfig(cfg: TuneConfig): string {
  const c = cfg.constants;
  if (cfg.variant === 'fused') return `fused WG${c['WG']}`;
  if (cfg.variant === 'tiled') return `tiled WG${c['WG']} BK${c['BK']}`;
  return cfg.variant;
}

function launch(engine: Engine, p: AttentionProblem, cfg: TuneConfig): TuneLaunch {
  const plan = attnPlan(p, benchScale(p), cfg);
  return dispatchListLaunch(engine, p.training ? [...plan.forward, ...plan.backward] : plan.forward, `attentionTokens: ${describeAttentionConfig(cfg)}`);
}

function benchBuffers(p: AttentionProblem) {
  const sizes: Record<AttnBuffer | typeof PLACEHOLDER, number> = { ...attnBufferSizes(p), [PLACEHOLDER]: 1 };
  return { sizes, inputs: ['q', 'k', 'v', 'g'], output: p.training ? 'dq' : 'out', params: {} };
}

/** The multi-head attention family for the autotuner. */
export const ATTENTION_TUNING: TuneFamily<AttentionProblem> = {
  name: 'attention',
  // 2: candidates are checked against the fused kernels (the reference), not the static rule (2026-12-06)
  version: 2,
  key: (p) => `N${p.N} H${p.H} Lq${p.Lq} Lk${p.Lk} dh${p.dh} dv${p.dv} ${p.training ? 'train' : 'fwd'}`,
  staticConfig: attentionStaticConfig,
  candidates: attentionCandidates,
  valid: attentionConfigValid,
  // The fused kernels (a thread per query, no workgroup memory): what every tuned attention is checked against.
  reference: (_e, p) => fusedConfig(fusedWg(p)),
  launch,
  benchBuffers,
  tolerance: (p) => ATTN_VARIANT_RTOL * Math.sqrt(Math.max(p.dh, p.dv) * p.Lk),
  describe: describeAttentionConfig,
};

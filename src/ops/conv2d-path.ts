/**
 * Which conv2d path runs a pass: one pure function of the shape, the pass, the
 * adapter's facts and an explicit request, so the rule can be read and tested
 * without a device. The measurements behind it are in docs/kernels/conv2d.md.
 */
import type { Engine } from '../engine.js';
import type { TuneConfig } from '../tune/types.js';
import type { Conv2dShape } from './conv2d.js';
import { igemmCandidates, igemmFits, type IgemmLimits } from './conv2d-igemm.js';
import { im2colFits } from './conv2d-im2col.js';
import { sgFits } from './conv2d-sg.js';
import { splitKFits } from './conv2d-split-k.js';

export type Conv2dPass = 'forward' | 'grad-input' | 'grad-weight';

/**
 * The implementations: 'im2col' (src/ops/conv2d-im2col.ts), 'direct'
 * (src/ops/conv2d-direct.ts), 'splitk' (src/ops/conv2d-split-k.ts, grad-weight only),
 * 'sg' (src/ops/conv2d-sg.ts: implicit GEMMs for 8-lane subgroups).
 */
export type Conv2dPath = 'im2col' | 'direct' | 'splitk' | 'sg';

/**
 * What a call asks for: 'auto' (the rule), or a path. Requesting 'splitk' asks
 * for the GPU configuration: split-K grad-weight, direct forward and grad-input.
 */
export type Conv2dPathRequest = 'auto' | Conv2dPath;

/** The adapter facts the rules read. */
export interface Conv2dAdapterFacts {
  /** Subgroups of exactly 8 lanes (lavapipe/llvmpipe at 256 bits): matmulRaw then runs matmul_sg. */
  subgroup8: boolean;
  /** A CPU adapter (lavapipe, SwiftShader), where the implicit GEMM measured 1.4–5.6× slower than the paths below. */
  cpu: boolean;
  limits: IgemmLimits;
}

/**
 * 'auto': on adapters with 8-lane subgroups (lavapipe) the subgroup implicit
 * GEMM 'sg' where it applies (groups = 1, W and Wo multiples of 4, KW ≤ 4;
 * the strided grad-input: dy's Wo a multiple of 4), else im2col + matmul_sg when groups = 1 and its
 * buffers fit, otherwise direct; on other adapters (GPUs)
 * direct forward and grad-input, split-K grad-weight (direct where its grids
 * do not fit). A requested path that cannot run this pass or shape falls back:
 * 'im2col' to direct, 'splitk' to direct for forward and grad-input, 'sg'
 * to what 'im2col' gives (it needs 8-lane subgroups: on other adapters it
 * is never chosen, and a request for it runs im2col's rule).
 */
export function chooseConv2dPath(g: Conv2dShape, pass: Conv2dPass, adapter: Conv2dAdapterFacts, want: Conv2dPathRequest = 'auto'): Conv2dPath {
  const im2col = (): Conv2dPath => (im2colFits(g, pass, adapter.limits) ? 'im2col' : 'direct');
  const splitk = (): Conv2dPath => (pass === 'grad-weight' && splitKFits(g, adapter.limits) ? 'splitk' : 'direct');
  if (want === 'direct') return 'direct';
  if (want === 'splitk') return splitk();
  if (want === 'im2col') return im2col();
  if (want === 'sg') return adapter.subgroup8 && sgFits(g, pass, adapter.limits) ? 'sg' : im2col();
  if (adapter.subgroup8) return sgFits(g, pass, adapter.limits) ? 'sg' : im2col();
  return splitk();
}

/**
 * What a pass runs when nothing was measured (the conv2d tuner family's static
 * rule, src/ops/conv2d-tuning.ts). On GPUs (no 8-lane subgroups, not a CPU
 * adapter): the implicit GEMM (kernels/conv2d_igemm.wgsl) with its first GPU
 * candidate — the largest tile that still gives a few hundred workgroups —
 * because it is one dispatch per pass (the direct path adds two re-layouts
 * per pass, split-K a second pass) and a workgroup-memory tiled GEMM, the
 * design GPUs reward, where the direct kernel was built around a CPU adapter's
 * loads and measured 0.25–0.43× TF.js's conv on an H100 (2026-11-26). That
 * choice awaits a GPU measurement of the implicit GEMM itself
 * (scripts/device/plans/bench-tune.sh). Elsewhere, and for a shape no tile
 * fits: the path rule.
 */
export function staticConv2dConfig(g: Conv2dShape, pass: Conv2dPass, adapter: Conv2dAdapterFacts): TuneConfig {
  if (!adapter.subgroup8 && !adapter.cpu) {
    const tile = igemmCandidates(g, pass, false).find((c) => igemmFits(g, pass, c, adapter.limits));
    if (tile) return { variant: 'igemm', constants: tile };
  }
  return { variant: chooseConv2dPath(g, pass, adapter), constants: {} };
}

/** The facts `chooseConv2dPath` and `staticConv2dConfig` need, read from an engine's adapter. */
export function conv2dAdapterFacts(engine: Engine): Conv2dAdapterFacts {
  return { subgroup8: engine.ctx.subgroups8, cpu: engine.kernelRules === 'cpu', limits: engine.limits };
}

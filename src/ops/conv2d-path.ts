/**
 * Which conv2d path runs a pass: one pure function of the shape, the pass, the
 * adapter's facts and an explicit request, so the rule can be read and tested
 * without a device. The measurements behind it are in docs/kernels/conv2d.md.
 */
import type { Engine } from '../engine.js';
import type { Conv2dShape } from './conv2d.js';
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

/** The adapter facts the rule reads. */
export interface Conv2dAdapterFacts {
  /** Subgroups of exactly 8 lanes (lavapipe/llvmpipe at 256 bits): matmulRaw then runs matmul_sg. */
  subgroup8: boolean;
  limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxComputeWorkgroupsPerDimension'>;
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

/** The facts `chooseConv2dPath` needs, read from an engine's adapter. */
export function conv2dAdapterFacts(engine: Engine): Conv2dAdapterFacts {
  const info = engine.ctx.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const subgroup8 = engine.features.has('subgroups') && info?.subgroupMinSize === 8 && info.subgroupMaxSize === 8;
  return { subgroup8, limits: engine.limits };
}

/**
 * The split-K grad-weight path (kernels/conv2d_grad_weight.wgsl), for GPUs:
 * dW is small (O·CK) and its reduction over N·Ho·Wo long, so the reduction is
 * cut into chunks reduced by separate workgroups (`conv2d_gw_partial`,
 * gathering x and dy on the fly), then the partials are summed in a fixed
 * order (`conv2d_gw_sum`): deterministic, no atomics. Any groups, stride,
 * padding, dilation.
 */
import type { Conv2dShape } from './conv2d.js';
import type { Conv2dSteps } from './conv2d-steps.js';

/** Reduction values per tile step of conv2d_gw_partial (its TK). */
const GW_TK = 16;
/** Workgroups a split reduction aims for (a few per compute unit on large GPUs, e.g. 132 SMs on an H100). */
export const SPLIT_TARGET_WORKGROUPS = 4096;
/** Most chunks (bounds the loop of conv2d_gw_sum to S/8 loads per invocation, 4 in flight). */
const GW_MAX_CHUNKS = 1024;
/** Most floats in the partial buffer [S, O, CK] (64 MiB). */
const GW_MAX_PARTIAL = 16 << 20;

/**
 * How a reduction of K values is cut into S chunks of `chunk` values (a
 * multiple of `step`, the kernel's values per tile step; the last chunk may
 * be short): enough chunks that tiles × S reaches `target` workgroups, but
 * chunks of at least 4 steps (so each workgroup's loads amortise its partial
 * store), at most GW_MAX_CHUNKS chunks and a partial buffer of at most
 * GW_MAX_PARTIAL floats and the binding limit (T = floats per chunk's
 * partial). `want` (tests) asks for a chunk count instead of the target,
 * still clamped to [1, ⌈K/step⌉] and the buffer limits.
 */
export function reductionChunks(
  K: number,
  tiles: number,
  T: number,
  o: { step: number; target: number; maxBindingBytes: number; want?: number | undefined },
): { S: number; chunk: number } {
  let S: number;
  if (o.want !== undefined) {
    S = Math.min(Math.max(1, Math.floor(o.want)), Math.ceil(K / o.step));
  } else {
    S = Math.ceil(o.target / tiles);
    S = Math.min(S, Math.floor(K / (4 * o.step)), GW_MAX_CHUNKS);
  }
  S = Math.max(1, Math.min(S, Math.floor(Math.min(GW_MAX_PARTIAL, o.maxBindingBytes / 4) / T)));
  const chunk = Math.ceil(K / S / o.step) * o.step;
  return { S: Math.ceil(K / chunk), chunk };
}

/** Tile edge for an axis of `n` items: 16, 32 or 64 (the TM / TN overrides). */
const gwTile = (n: number) => (n <= 16 ? 16 : n <= 32 ? 32 : 64);

/** The geometry of one split-K grad-weight call (exported for tests and benchmarks). */
export interface SplitKPlan {
  TM: number;
  TN: number;
  /** Workgroups per chunk: ⌈CK/TN⌉ × groups·⌈Og/TM⌉. */
  tiles: number;
  /** Reduction length N·Ho·Wo. */
  K: number;
  /** Chunks of the reduction and values per chunk (a multiple of 16; the last chunk may be shorter). */
  S: number;
  chunk: number;
}

/** The split-K geometry of a grad-weight (`want`, tests: a chunk count instead of the shape-derived one). */
export function splitKPlan(g: Conv2dShape, maxBindingBytes = Infinity, want?: number): SplitKPlan {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const K = g.N * g.Ho * g.Wo;
  const TM = gwTile(Og);
  const TN = gwTile(CK);
  const tiles = Math.ceil(CK / TN) * g.groups * Math.ceil(Og / TM);
  const { S, chunk } = reductionChunks(K, tiles, g.O * CK, { step: GW_TK, target: SPLIT_TARGET_WORKGROUPS, maxBindingBytes, want });
  return { TM, TN, tiles, K, S, chunk };
}

/** Whether the split-K grids and buffers fit the adapter's limits (y = groups·⌈Og/TM⌉, x = ⌈CK/TN⌉, z = S). */
export function splitKFits(
  g: Conv2dShape,
  limits: Pick<
    GPUSupportedLimits,
    'maxStorageBufferBindingSize' | 'maxComputeWorkgroupsPerDimension' | 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'
  >,
): boolean {
  // Both kernels are 256-invocation workgroups (a 16 × 16 grid): more than a compatibility-mode device allows.
  if (limits.maxComputeInvocationsPerWorkgroup < 256 || limits.maxComputeWorkgroupSizeX < 256) return false;
  const P = splitKPlan(g, limits.maxStorageBufferBindingSize);
  const Cg = g.C / g.groups;
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  const y = g.groups * Math.ceil(g.O / g.groups / P.TM);
  const xw = Math.ceil((Cg * g.KH * g.KW) / P.TN);
  return y <= maxDim && xw <= maxDim && P.S <= maxDim && g.O * Cg * g.KH * g.KW * 4 <= limits.maxStorageBufferBindingSize;
}

/**
 * dW by split-K: conv2d_gw_partial writes part [S, O, CK] (or dW itself when
 * S = 1), conv2d_gw_sum adds the S partials in a fixed order. `want` (tests)
 * forces a chunk count.
 */
export function splitKSteps(g: Conv2dShape, maxBindingBytes: number, want?: number): Conv2dSteps {
  const P = splitKPlan(g, maxBindingBytes, want);
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const T = g.O * CK;
  const { N, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const params = { N, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, Ho, Wo, Cg, Og, CK, K: P.K, chunk: P.chunk, S: P.S, T };
  const part = P.S === 1 ? 'out' : 'part';
  const out: Conv2dSteps = { temps: P.S === 1 ? {} : { part: P.S * T }, steps: [] };
  out.steps.push({
    kind: 'dispatch',
    family: 'conv2d_grad_weight',
    entry: 'conv2d_gw_partial',
    bind: { x: 'x', dy: 'dy', dst: part },
    params,
    constants: { TM: P.TM, TN: P.TN },
    workgroups: [Math.ceil(CK / P.TN), g.groups * Math.ceil(Og / P.TM), P.S],
  });
  if (P.S > 1) out.steps.push(gwSumStep(params, T, 256));
  return out;
}

/**
 * conv2d_gw_sum over the partials 'part' ([S, T], S in `params`) into 'out': 32 outputs per
 * workgroup, in 8 slices of the chunks (256 invocations), or 4 where the device allows fewer
 * (`maxWorkgroupSize`, a compatibility-mode device's 128).
 */
export function gwSumStep(params: Record<string, number>, T: number, maxWorkgroupSize: number): Conv2dSteps['steps'][number] {
  return {
    kind: 'dispatch',
    family: 'conv2d_grad_weight',
    entry: 'conv2d_gw_sum',
    bind: { part: 'part', dst: 'out' },
    params,
    ...(maxWorkgroupSize < 256 ? { constants: { SLICES: 4 } } : {}),
    workgroups: Math.ceil(T / 32),
  };
}

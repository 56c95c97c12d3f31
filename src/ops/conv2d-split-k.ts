/**
 * The split-K grad-weight path (kernels/conv2d_grad_weight.wgsl), for GPUs:
 * dW is small (O·CK) and its reduction over N·Ho·Wo long, so the reduction is
 * cut into chunks reduced by separate workgroups (`conv2d_gw_partial`,
 * gathering x and dy on the fly), then the partials are summed in a fixed
 * order (`conv2d_gw_sum`): deterministic, no atomics. Any groups, stride,
 * padding, dilation.
 */
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Conv2dShape } from './conv2d.js';

/** Reduction values per tile step of conv2d_gw_partial (its TK). */
const GW_TK = 16;
/** Workgroups conv2d_gw_partial aims for (a few per compute unit on large GPUs, e.g. 132 SMs on an H100). */
const GW_TARGET_WORKGROUPS = 4096;
/** Shortest chunk: 4 tile steps (64 values), so each workgroup's loads amortise its TM·TN partial store. */
const GW_MIN_CHUNK = 4 * GW_TK;
/** Most chunks (bounds the loop of conv2d_gw_sum to S/8 loads per invocation, 4 in flight). */
const GW_MAX_CHUNKS = 1024;
/** Most floats in the partial buffer [S, O, CK] (64 MiB). */
const GW_MAX_PARTIAL = 16 << 20;

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

/**
 * Chunking of the reduction axis: enough chunks that tiles × S reaches
 * GW_TARGET_WORKGROUPS, but chunks of at least GW_MIN_CHUNK values, at most
 * GW_MAX_CHUNKS chunks and a partial buffer of at most GW_MAX_PARTIAL floats
 * (and the binding limit). `want` (tests) asks for a chunk count instead of
 * the target, still clamped to [1, ⌈K/16⌉] and the buffer limits.
 */
export function splitKPlan(g: Conv2dShape, maxBindingBytes = Infinity, want?: number): SplitKPlan {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const K = g.N * g.Ho * g.Wo;
  const TM = gwTile(Og);
  const TN = gwTile(CK);
  const tiles = Math.ceil(CK / TN) * g.groups * Math.ceil(Og / TM);
  const T = g.O * CK;
  let S: number;
  if (want !== undefined) {
    S = Math.min(Math.max(1, Math.floor(want)), Math.ceil(K / GW_TK));
  } else {
    S = Math.ceil(GW_TARGET_WORKGROUPS / tiles);
    S = Math.min(S, Math.floor(K / GW_MIN_CHUNK), GW_MAX_CHUNKS);
  }
  S = Math.max(1, Math.min(S, Math.floor(Math.min(GW_MAX_PARTIAL, maxBindingBytes / 4) / T)));
  const chunk = Math.ceil(K / S / GW_TK) * GW_TK;
  return { TM, TN, tiles, K, S: Math.ceil(K / chunk), chunk };
}

/** Whether the split-K grids and buffers fit the adapter's limits (y = groups·⌈Og/TM⌉, x = ⌈CK/TN⌉, z = S). */
export function splitKFits(g: Conv2dShape, limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxComputeWorkgroupsPerDimension'>): boolean {
  const P = splitKPlan(g, limits.maxStorageBufferBindingSize);
  const Cg = g.C / g.groups;
  const maxDim = limits.maxComputeWorkgroupsPerDimension;
  const y = g.groups * Math.ceil(g.O / g.groups / P.TM);
  const xw = Math.ceil((Cg * g.KH * g.KW) / P.TN);
  return y <= maxDim && xw <= maxDim && P.S <= maxDim && g.O * Cg * g.KH * g.KW * 4 <= limits.maxStorageBufferBindingSize;
}

/**
 * dW into `dw` by split-K: conv2d_gw_partial writes part [S, O, CK] (or dW
 * itself when S = 1), conv2d_gw_sum adds the S partials in a fixed order.
 * `want` (tests) forces a chunk count.
 */
export function splitKGradWeight(engine: Engine, x: Tensor, dy: Tensor, g: Conv2dShape, dw: Tensor, want?: number): void {
  const P = splitKPlan(g, engine.limits.maxStorageBufferBindingSize, want);
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const T = g.O * CK;
  const params = {
    N: g.N,
    C: g.C,
    H: g.H,
    W: g.W,
    O: g.O,
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
    Cg,
    Og,
    CK,
    K: P.K,
    chunk: P.chunk,
    S: P.S,
    T,
  };
  const part = P.S === 1 ? dw : engine.empty([P.S, T], 'f32', 'conv2d.gw_part');
  engine.run('conv2d_grad_weight', 'conv2d_gw_partial', {
    bind: { x, dy, dst: part },
    params,
    constants: { TM: P.TM, TN: P.TN },
    workgroups: [Math.ceil(CK / P.TN), g.groups * Math.ceil(Og / P.TM), P.S],
  });
  if (P.S === 1) return;
  engine.run('conv2d_grad_weight', 'conv2d_gw_sum', { bind: { part, dst: dw }, params, workgroups: Math.ceil(T / 32) });
  part.dispose();
}

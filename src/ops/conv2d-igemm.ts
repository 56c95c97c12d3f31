/**
 * The implicit-GEMM conv2d path (kernels/conv2d_igemm.wgsl), for GPUs: one
 * workgroup-tiled GEMM per pass whose gathered operand (the im2col matrix, or
 * dy at the taps of one output phase) is read from x or dy straight into
 * workgroup memory — no im2col buffer, no re-layout pass. Any groups, stride,
 * padding, dilation, kernel size; grad-input is split by output phase so a
 * strided conv does no zero taps; grad-weight splits its long reduction into
 * chunks summed by conv2d_grad_weight.wgsl's conv2d_gw_sum (fixed order).
 *
 * A configuration is the tile [BM, BN, BK, TM, TN] and WG = (BM/TM)·(BN/TN)
 * (override constants), plus, for grad-weight, SPLIT: the workgroup count the
 * chunking aims for (a host-side number, not an override; 1 = one chunk).
 * The autotuner chooses among them (src/ops/conv2d-tuning.ts); nothing picks
 * this path without a measurement or an explicit request.
 */
import type { Conv2dShape } from './conv2d.js';
import type { Conv2dPass } from './conv2d-path.js';
import { gwSumStep, reductionChunks, SPLIT_TARGET_WORKGROUPS } from './conv2d-split-k.js';
import type { Conv2dSteps } from './conv2d-steps.js';
import { PLACEHOLDER } from './dispatch-list.js';
import { rankGpuTiles } from './launch.js';

/** [BM, BN, BK, TM, TN]. */
export type IgemmTile = readonly [number, number, number, number, number];

/** A configuration's constants: the tile, WG and (grad-weight) SPLIT. */
export type IgemmConstants = Record<string, number>;

// Few on purpose: every configuration is a pipeline to compile (seconds each
// on a CPU adapter) and to time. GPU-sized tiles (64–128, 8×8 registers) and
// small ones for the thin problems convs make (16–32 output channels per
// group, or a grad-input with 1–3 input channels).
const GPU_TILES: readonly IgemmTile[] = [
  [128, 128, 16, 8, 8],
  [64, 128, 16, 8, 8],
  [64, 64, 16, 8, 8],
  [32, 64, 32, 4, 8],
  [16, 64, 16, 2, 8],
  [32, 32, 16, 4, 4],
];
// CPU adapters: few invocations, large register tiles (llvmpipe runs a
// workgroup's invocations 8 at a time and each barrier is a coroutine switch).
const CPU_TILES: readonly IgemmTile[] = [
  [32, 32, 32, 8, 8],
  [32, 64, 32, 4, 8],
];

/** Every tile either list offers (tests force each one). */
export const IGEMM_TILES: readonly IgemmTile[] = [...GPU_TILES, ...CPU_TILES.filter((t) => !GPU_TILES.some((u) => u.every((v, i) => v === t[i])))];
/** grad-weight's SPLIT values on GPUs (the first: SPLIT_TARGET_WORKGROUPS) and on CPU adapters. */
const GPU_SPLITS = [SPLIT_TARGET_WORKGROUPS, 1024];
const CPU_SPLITS = [1, 16];
export const IGEMM_SPLITS: readonly number[] = [...GPU_SPLITS, ...CPU_SPLITS];

/** The limits the implicit GEMM's fit depends on (also the conv path rule's adapter facts). */
export type IgemmLimits = Pick<
  GPUSupportedLimits,
  | 'maxStorageBufferBindingSize'
  | 'maxComputeWorkgroupsPerDimension'
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupStorageSize'
>;

export function igemmConstants([BM, BN, BK, TM, TN]: IgemmTile, split?: number): IgemmConstants {
  return { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN), ...(split === undefined ? {} : { SPLIT: split }) };
}

/** The GEMM of a pass: rows M, columns N (the grid's x is sized for the largest phase of grad-input). */
function gemmSize(g: Conv2dShape, pass: Conv2dPass): { M: number; N: number } {
  if (pass === 'forward') return { M: g.O / g.groups, N: g.N * g.Ho * g.Wo };
  if (pass === 'grad-input') return { M: g.C / g.groups, N: g.N * Math.ceil(g.H / g.sh) * Math.ceil(g.W / g.sw) };
  return { M: g.O / g.groups, N: (g.C / g.groups) * g.KH * g.KW };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Whether A is read as vec4 (forward: w rows, CK % 4 == 0; grad-weight: dy rows, Ho·Wo % 4 == 0). */
function vec4A(g: Conv2dShape, pass: Conv2dPass): boolean {
  if (pass === 'forward') return ((g.C / g.groups) * g.KH * g.KW) % 4 === 0;
  return pass === 'grad-weight' && (g.Ho * g.Wo) % 4 === 0;
}

/** The chunking of grad-weight's reduction under a configuration. */
function chunking(g: Conv2dShape, c: IgemmConstants, maxBindingBytes: number): { S: number; chunk: number } {
  const CK = (g.C / g.groups) * g.KH * g.KW;
  const tiles = Math.ceil(CK / c['BN']!) * Math.ceil(g.O / g.groups / c['BM']!) * g.groups;
  return reductionChunks(g.N * g.Ho * g.Wo, tiles, g.O * CK, { step: c['BK']!, target: c['SPLIT']!, maxBindingBytes });
}

/** The grid of a pass under a configuration. */
function grid(g: Conv2dShape, pass: Conv2dPass, c: IgemmConstants, maxBindingBytes: number): [number, number, number] {
  const { M, N } = gemmSize(g, pass);
  const z = pass === 'forward' ? g.groups : pass === 'grad-input' ? g.groups * g.sh * g.sw : g.groups * chunking(g, c, maxBindingBytes).S;
  return [Math.ceil(N / c['BN']!), Math.ceil(M / c['BM']!), z];
}

/** Whether a configuration is well formed for the kernel and fits the adapter's limits for this problem. */
export function igemmFits(g: Conv2dShape, pass: Conv2dPass, c: IgemmConstants, limits: IgemmLimits): boolean {
  const { BM, BN, BK, TM, TN, WG, SPLIT } = c;
  const keys = Object.keys(c).length;
  if (![BM, BN, BK, TM, TN, WG].every((v) => Number.isInteger(v) && v! > 0)) return false;
  if (pass === 'grad-weight' ? !(Number.isInteger(SPLIT) && SPLIT! > 0 && keys === 7) : keys !== 6) return false;
  const [bm, bn, bk, tm, tn, wg] = [BM!, BN!, BK!, TM!, TN!, WG!];
  if (tn % 4 || bk % 4 || bm % tm || bn % tn || tm > 16 || tm * tn > 64 || wg !== (bm / tm) * (bn / tn)) return false;
  // The loaders: every invocation keeps one vec4 column of tileB and one column (or vec4 column) of tileA.
  const divides = (a: number, b: number) => a % b === 0 || b % a === 0;
  if (wg % (bn / 4) || ((bk * bn) / 4) % wg || !divides(wg, bk) || !divides(wg, bk / 4)) return false;
  if (wg > limits.maxComputeInvocationsPerWorkgroup || wg > limits.maxComputeWorkgroupSizeX) return false;
  if (4 * (bm + bn) * bk > limits.maxComputeWorkgroupStorageSize) return false;
  if (grid(g, pass, c, limits.maxStorageBufferBindingSize).some((d) => d > limits.maxComputeWorkgroupsPerDimension)) return false;
  // Indices are u32: every tensor the kernel addresses stays below 2³² elements (and within one binding).
  const sizes = [g.N * g.C * g.H * g.W, g.N * g.O * g.Ho * g.Wo, g.O * (g.C / g.groups) * g.KH * g.KW];
  return sizes.every((n) => n * 4 <= limits.maxStorageBufferBindingSize && n < 2 ** 32);
}

/** Candidate configurations for a problem, most promising first (validity is checked by the caller). */
export function igemmCandidates(g: Conv2dShape, pass: Conv2dPass, cpu: boolean): IgemmConstants[] {
  const { M, N } = gemmSize(g, pass);
  const pow2ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
  // Tiles much larger than the problem only add idle invocations.
  // (A list with no tile that small keeps its smallest.)
  const fitting = (list: readonly IgemmTile[]) => {
    const small = list.filter(([BM, BN]) => BM <= Math.max(16, pow2ceil(M)) && BN <= Math.max(16, pow2ceil(N)));
    return small.length ? small : [...list].sort((x, y) => x[0] * x[1] - y[0] * y[1]).slice(0, 1);
  };
  let tiles: IgemmTile[];
  if (cpu) {
    // Only these: on a CPU adapter each candidate costs seconds of compiling within the tuner's budget.
    tiles = fitting(CPU_TILES);
  } else {
    // GPUs: the largest tiles that still give a few hundred workgroups first, else the most
    // workgroups (layer 4 of ResNet-18 ×0.25 at batch 100, 128 × 1 600: 13 on 128×128, 200 on
    // 16×64). Grad-weight splits its reduction into as many workgroups as it needs.
    const wgs = ([BM, BN]: IgemmTile) =>
      pass === 'grad-weight' ? Number.POSITIVE_INFINITY : Math.ceil(M / BM) * Math.ceil(N / BN) * (pass === 'forward' ? g.groups : g.groups * g.sh * g.sw);
    tiles = rankGpuTiles(fitting(GPU_TILES), wgs, 256);
  }
  if (pass !== 'grad-weight') return tiles.map((t) => igemmConstants(t));
  // grad-weight: split the reduction for a GPU's many workgroups; on a CPU adapter, one chunk or a few.
  const splits = cpu ? CPU_SPLITS : GPU_SPLITS;
  return tiles.flatMap((t) => splits.map((s) => igemmConstants(t, s)));
}

/** A configuration's short name: 'igemm 64×64×16 8×8', '… split 4096'. */
export function describeIgemm(c: IgemmConstants): string {
  return `igemm ${c['BM']}×${c['BN']}×${c['BK']} ${c['TM']}×${c['TN']}${c['SPLIT'] === undefined ? '' : ` split ${c['SPLIT']}`}`;
}

/** The steps of one pass under a configuration that `igemmFits`. */
export function igemmSteps(
  g: Conv2dShape,
  pass: Conv2dPass,
  hasBias: boolean,
  c: IgemmConstants,
  maxBindingBytes: number,
  maxWorkgroupSize: number,
): Conv2dSteps {
  const Cg = g.C / g.groups;
  const Og = g.O / g.groups;
  const CK = Cg * g.KH * g.KW;
  const tile = { BM: c['BM']!, BN: c['BN']!, BK: c['BK']!, TM: c['TM']!, TN: c['TN']!, WG: c['WG']! };
  const { N, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const params = { N, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, Ho, Wo, Cg, Og, CK };
  const workgroups = grid(g, pass, c, maxBindingBytes);
  const vec4 = vec4A(g, pass) ? 1 : 0;
  if (pass === 'forward') {
    const bind = { x: 'x', w: 'w', w4: vec4 ? 'w' : PLACEHOLDER, bias: hasBias ? 'bias' : PLACEHOLDER, dst: 'out' } as const;
    const constants = { ...tile, HAS_BIAS: hasBias ? 1 : 0, VEC4_A: vec4, KHC: KH, KWC: KW };
    return { temps: {}, steps: [{ kind: 'dispatch', family: 'conv2d_igemm', entry: 'conv2d_igemm_fwd', bind, params, constants, workgroups }] };
  }
  if (pass === 'grad-input') {
    const steps = { step_y: sh / gcd(sh, dh), step_x: sw / gcd(sw, dw) };
    return {
      temps: {},
      steps: [
        {
          kind: 'dispatch',
          family: 'conv2d_igemm',
          entry: 'conv2d_igemm_grad_input',
          bind: { dy: 'dy', w: 'w', dst: 'out' },
          params: { ...params, ...steps },
          constants: { ...tile, ...(sh === 1 && sw === 1 ? { UNIT_STRIDE: 1, KHC: KH, KWC: KW } : {}) },
          workgroups,
        },
      ],
    };
  }
  const { S, chunk } = chunking(g, c, maxBindingBytes);
  const K = N * Ho * Wo;
  const T = O * CK;
  const part = S === 1 ? 'out' : 'part';
  const out: Conv2dSteps = {
    temps: S === 1 ? {} : { part: S * T },
    steps: [
      {
        kind: 'dispatch',
        family: 'conv2d_igemm',
        entry: 'conv2d_igemm_grad_weight',
        bind: { x: 'x', dy: 'dy', dy4: vec4 ? 'dy' : PLACEHOLDER, dst: part },
        params: { ...params, K, chunk },
        constants: { ...tile, VEC4_A: vec4, HWOC: Ho * Wo, WOC: Wo },
        workgroups,
      },
    ],
  };
  if (S > 1) out.steps.push(gwSumStep({ S, T }, T, maxWorkgroupSize));
  return out;
}

// The conv2d path rule and static configuration (src/ops/conv2d-path.ts) as
// pure functions: no device, adapters described by their facts (8-lane
// subgroups, a CPU adapter, limits).
import { describe, expect, it } from 'vitest';
import { conv2dShape, type Conv2dOptions } from '../../src/ops/conv2d.js';
import { igemmFits } from '../../src/ops/conv2d-igemm.js';
import { chooseConv2dPath, type Conv2dAdapterFacts, type Conv2dPass, staticConv2dConfig } from '../../src/ops/conv2d-path.js';

// WebGPU's default limits, and a 128 MiB binding.
const LIMITS = {
  maxStorageBufferBindingSize: 128 << 20,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
};
const LAVAPIPE: Conv2dAdapterFacts = { subgroup8: true, cpu: true, limits: LIMITS };
const GPU: Conv2dAdapterFacts = { subgroup8: false, cpu: false, limits: LIMITS };
/** A CPU adapter without 8-lane subgroups (SwiftShader in Chromium). */
const SWIFTSHADER: Conv2dAdapterFacts = { subgroup8: false, cpu: true, limits: LIMITS };
const PASSES: Conv2dPass[] = ['forward', 'grad-input', 'grad-weight'];

const shape = (x: number[], w: number[], o: Conv2dOptions = {}) => conv2dShape(x, w, o);
/** The three passes' paths for one shape, adapter and request. */
const paths = (g: ReturnType<typeof shape>, a: Conv2dAdapterFacts, want?: Parameters<typeof chooseConv2dPath>[3]) =>
  PASSES.map((pass) => chooseConv2dPath(g, pass, a, want));

const resnet = shape([32, 16, 28, 28], [32, 16, 3, 3], { stride: 2, padding: 1 });
const grouped = shape([2, 16, 8, 8], [16, 4, 3, 3], { stride: 2, padding: 1, groups: 4 });
const depthwise = shape([2, 5, 7, 6], [5, 1, 3, 3], { padding: 1, groups: 5 });
const oneByOne = shape([32, 64, 14, 14], [128, 64, 1, 1], { stride: 2 });
// Shapes the subgroup implicit GEMM 'sg' takes (W and Wo multiples of 4, KW ≤ 4): stride 1 and
// stride 2 (the strided grad-input by output phases), every pass.
const cifar = shape([32, 16, 32, 32], [16, 16, 3, 3], { padding: 1 });
const cifarDown = shape([32, 16, 32, 32], [32, 16, 3, 3], { stride: 2, padding: 1 });
// im2col would need N·CK·HW·4 = 256·576·1024·4 B ≈ 604 MB for the forward's col buffer.
const huge = shape([256, 64, 32, 32], [64, 64, 3, 3], { padding: 1 });

describe('conv2d path rule', () => {
  it("lavapipe (8-lane subgroups): 'sg' where it applies, for each pass", () => {
    expect(paths(cifar, LAVAPIPE)).toEqual(['sg', 'sg', 'sg']);
    expect(paths(cifarDown, LAVAPIPE)).toEqual(['sg', 'sg', 'sg']);
    // 28×28 → 14×14: Wo = 14 is no multiple of 4: rows read as scalars.
    expect(paths(resnet, LAVAPIPE)).toEqual(['sg', 'sg', 'sg']);
    // KW > 4, groups > 1: not 'sg'.
    expect(paths(shape([2, 4, 8, 8], [4, 4, 5, 5], { padding: 2 }), LAVAPIPE)).toEqual(['im2col', 'im2col', 'im2col']);
    expect(paths(shape([2, 4, 8, 8], [4, 2, 3, 3], { padding: 1, groups: 2 }), LAVAPIPE)).toEqual(['direct', 'direct', 'direct']);
    // im2col's fit is the pass's own route: this forward was 'direct' when the stride-1 grad-input
    // route's buffers (N·O·9·H·W·4 B = 151 MB) were checked for every pass.
    const down = shape([32, 64, 32, 32], [128, 64, 3, 3], { stride: 2, padding: 1 });
    expect(paths(down, LAVAPIPE)).toEqual(['sg', 'sg', 'sg']);
    expect(paths(down, LAVAPIPE, 'im2col')).toEqual(['im2col', 'im2col', 'im2col']);
  });

  it('lavapipe (8-lane subgroups): im2col where sg does not apply (groups = 1)', () => {
    // Rows off vec4 boundaries: sg too, except a strided grad-weight over such input rows.
    expect(paths(shape([1, 1, 5, 5], [1, 1, 3, 3], { padding: 1 }), LAVAPIPE)).toEqual(['sg', 'sg', 'sg']);
    expect(paths(oneByOne, LAVAPIPE)).toEqual(['sg', 'sg', 'im2col']);
    // KW > 4; a row segment past 8 vec4s (dilation 13).
    expect(paths(shape([2, 4, 8, 8], [4, 4, 5, 5], { padding: 2 }), LAVAPIPE)).toEqual(['im2col', 'im2col', 'im2col']);
    expect(paths(shape([1, 1, 4, 32], [2, 1, 1, 3], { padding: [0, 13], dilation: [1, 13] }), LAVAPIPE)).toEqual(['im2col', 'im2col', 'im2col']);
  });

  it('lavapipe: grouped and depthwise convs run direct (split-K is slower there)', () => {
    expect(paths(grouped, LAVAPIPE)).toEqual(['direct', 'direct', 'direct']);
    expect(paths(depthwise, LAVAPIPE)).toEqual(['direct', 'direct', 'direct']);
  });

  it('lavapipe: a shape whose im2col buffers exceed the binding limit runs sg (it has none), or direct', () => {
    // x and y of `huge` are 256·64·32·32·4 B = 64 MiB each: within the limit; im2col's col is not.
    expect(paths(huge, LAVAPIPE)).toEqual(['sg', 'sg', 'sg']);
    expect(paths(huge, LAVAPIPE, 'im2col')).toEqual(['direct', 'direct', 'direct']);
    // Neither fits under a 32 MiB binding limit.
    expect(paths(huge, { subgroup8: true, cpu: true, limits: { ...LIMITS, maxStorageBufferBindingSize: 2 ** 25 } })).toEqual(['direct', 'direct', 'direct']);
    // The same shape with a larger binding limit fits im2col.
    expect(paths(huge, { subgroup8: true, cpu: true, limits: { ...LIMITS, maxStorageBufferBindingSize: 2 ** 31 } }, 'im2col')).toEqual([
      'im2col',
      'im2col',
      'im2col',
    ]);
    // Grids too: a column count past maxComputeWorkgroupsPerDimension.
    // (sg's grad-weight grid is ⌈C·KH/8⌉ × ⌈O/TM⌉ = 6 × 1: it fits.)
    expect(paths(resnet, { subgroup8: true, cpu: true, limits: { ...LIMITS, maxComputeWorkgroupsPerDimension: 100 } })).toEqual(['direct', 'direct', 'sg']);
    // sg's forward grid has 32·32·32/4/8 = 1024 columns; its grad-weight grid only ⌈16·3/8⌉ = 6.
    expect(paths(cifar, { subgroup8: true, cpu: true, limits: { ...LIMITS, maxComputeWorkgroupsPerDimension: 100 } })).toEqual(['direct', 'direct', 'sg']);
  });

  it('GPUs (no 8-lane subgroups): direct forward and grad-input, split-K grad-weight, groups too', () => {
    for (const g of [resnet, oneByOne, grouped, depthwise, huge, cifar]) expect(paths(g, GPU)).toEqual(['direct', 'direct', 'splitk']);
  });

  it("GPUs: grad-weight stays direct where split-K's grid does not fit", () => {
    // 64 output channels per group → one 64-row tile; CK = 576 → 9 column tiles > 8.
    const tight = { subgroup8: false, cpu: false, limits: { ...LIMITS, maxComputeWorkgroupsPerDimension: 8 } };
    expect(chooseConv2dPath(huge, 'grad-weight', tight)).toBe('direct');
  });

  it("requests: 'direct' always; 'splitk' = the GPU configuration; 'im2col' where it fits, else direct; 'sg' where it applies, else im2col's rule", () => {
    for (const a of [LAVAPIPE, GPU]) {
      expect(paths(resnet, a, 'direct')).toEqual(['direct', 'direct', 'direct']);
      expect(paths(resnet, a, 'splitk')).toEqual(['direct', 'direct', 'splitk']);
      expect(paths(grouped, a, 'splitk')).toEqual(['direct', 'direct', 'splitk']);
      expect(paths(resnet, a, 'im2col')).toEqual(['im2col', 'im2col', 'im2col']);
      expect(paths(grouped, a, 'im2col')).toEqual(['direct', 'direct', 'direct']);
      expect(paths(huge, a, 'im2col')).toEqual(['direct', 'direct', 'direct']);
      expect(paths(resnet, a, 'auto')).toEqual(paths(resnet, a));
      // 'sg' where it applies on 8-lane-subgroup adapters, else what 'im2col' gives.
      expect(paths(resnet, a, 'sg')).toEqual(a.subgroup8 ? ['sg', 'sg', 'sg'] : ['im2col', 'im2col', 'im2col']);
      expect(paths(grouped, a, 'sg')).toEqual(['direct', 'direct', 'direct']);
    }
    expect(paths(cifarDown, LAVAPIPE, 'sg')).toEqual(['sg', 'sg', 'sg']);
    expect(paths(cifarDown, GPU, 'sg')).toEqual(['im2col', 'im2col', 'im2col']);
  });
});

describe('conv2d static configuration (what runs with nothing measured)', () => {
  const all = [resnet, oneByOne, grouped, depthwise, huge, cifar, cifarDown];

  it('GPUs: the implicit GEMM, one dispatch per pass, with a tile that fits the adapter', () => {
    for (const g of all) {
      for (const pass of PASSES) {
        const cfg = staticConv2dConfig(g, pass, GPU);
        expect(cfg.variant, `${pass}`).toBe('igemm');
        expect(igemmFits(g, pass, cfg.constants, LIMITS)).toBe(true);
      }
    }
  });

  it('GPUs: a small output gets the tile with the most workgroups, not the largest (ResNet-18 ×0.25 layer 4, batch 100)', () => {
    const layer4 = shape([100, 128, 4, 4], [128, 128, 3, 3], { padding: 1 });
    for (const pass of ['forward', 'grad-input'] as const) {
      const { BM, BN } = staticConv2dConfig(layer4, pass, GPU).constants as { BM: number; BN: number };
      // a 128 × 1 600 GEMM: 13 workgroups on the largest tile, 200 on 16×64 or 32×32
      expect(Math.ceil(128 / BM) * Math.ceil(1600 / BN), `${pass}: ${BM}×${BN}`).toBeGreaterThanOrEqual(200);
    }
  });

  it('GPUs: the path rule where no tile fits (here: 1 KiB of workgroup memory)', () => {
    const small = { ...GPU, limits: { ...LIMITS, maxComputeWorkgroupStorageSize: 1024 } };
    for (const pass of PASSES) expect(staticConv2dConfig(cifar, pass, small)).toEqual({ variant: chooseConv2dPath(cifar, pass, small), constants: {} });
  });

  it('CPU adapters, with or without 8-lane subgroups: the path rule', () => {
    for (const a of [LAVAPIPE, SWIFTSHADER]) {
      for (const g of all) {
        for (const pass of PASSES) expect(staticConv2dConfig(g, pass, a)).toEqual({ variant: chooseConv2dPath(g, pass, a), constants: {} });
      }
    }
    expect(PASSES.map((pass) => staticConv2dConfig(resnet, pass, SWIFTSHADER).variant)).toEqual(['direct', 'direct', 'splitk']);
  });
});

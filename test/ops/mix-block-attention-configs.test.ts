/**
 * Every configuration of the Mix Block attention (src/ops/mix-block-attention-plan.ts:
 * 'unfused', 'fused' at each workgroup width, 'tiled' at every tile), forced
 * through the tuner, against the f64 reference (src/reference/mix-block-attention.ts)
 * on awkward shapes: L = 1, L not a multiple of any block (35, 99: several
 * query and key blocks, so several dQ/dK parts), N = 1 and odd N,
 * permutations with repeated partners and self-pairs, d not a multiple of 4
 * nor of the tiles' channel step DC = 16 (5, 17), with and without the λ
 * channel; and a finite-difference gradcheck of the parameter gradients per
 * variant.
 *
 * Weights are drawn from U(−0.5, 0.5), far larger than the N(0, 0.01²) init,
 * so the attention is peaked and the softmax is really exercised.
 * Tolerances (|gpu − ref| ≤ atol + rtol·|ref|):
 *   forward s:                     atol 2e-5, rtol 2e-4  (f32 scores over C·d terms, then exp)
 *   backward vs reference:         atol 1e-4, rtol 2e-3  (sums over N·L·L·d terms in f32)
 *   gradcheck (f64 central diff.): atol 1e-4, rtol 1e-3  (the helper's default)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Engine, ops, tunerOf } from '../../src/index.js';
import { FUSED_WGS, MB_TILES, tiledConfig, tiledSmem } from '../../src/ops/mix-block-attention-plan.js';
import { describeMixBlockConfig, MIX_BLOCK_TUNING, mixBlockConfigValid, type MixBlockProblem } from '../../src/ops/mix-block-attention-tuning.js';
import { mixBlockLogitsBackwardRef, mixBlockLogitsRef } from '../../src/reference/mix-block-attention.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheckMixBlock, type MixBlockCase, mixBlockData, mixBlockDims } from '../helpers/mix-block-case.js';

const FWD = { atol: 2e-5, rtol: 2e-4 };
const BWD = { atol: 1e-4, rtol: 2e-3 };

/** Every configuration there is: the tuner's candidates are a subset of these, tiles of every size on every shape. */
const ALL_CONFIGS: TuneConfig[] = [
  { variant: 'unfused', constants: {} },
  ...FUSED_WGS.map((WG) => ({ variant: 'fused', constants: { WG } })),
  ...MB_TILES.map(tiledConfig),
];

type Case = MixBlockCase;

const CASES: Case[] = [
  { N: 1, C: 2, h: 1, w: 1, d: 3, perm: [0] }, // L = 1, self-pair
  { N: 3, C: 6, h: 5, w: 7, d: 5, perm: [2, 0, 2], lam: 0.3 }, // L = 35, a repeated partner, sample 1 nobody's partner
  { N: 5, C: 9, h: 9, w: 11, d: 17, perm: [1, 1, 1, 4, 3] }, // L = 99 (two 64-blocks, four 32-blocks, seven 16-blocks), d = 17 (two DC steps)
  { N: 2, C: 4, h: 7, w: 7, d: 6, perm: [1, 0], lam: 0.8 }, // 7×7, the Fashion-MNIST map
];

const data = mixBlockData;

const dimsOf = mixBlockDims;
const problemOf = (c: Case, training: boolean): MixBlockProblem => ({ N: c.N, C: c.C, d: c.d, L: c.h * c.w, lam: c.lam !== undefined, training });

let forcedOn: Engine | null = null;
afterEach(() => {
  forcedOn && tunerOf(forcedOn).force(MIX_BLOCK_TUNING.name, null);
  forcedOn = null;
});

function force(e: Engine, cfg: TuneConfig): void {
  forcedOn = e;
  tunerOf(e).force(MIX_BLOCK_TUNING.name, cfg);
}

describe('mixBlockLogits: every configuration against the f64 reference', () => {
  for (const cfg of ALL_CONFIGS) {
    it(`${describeMixBlockConfig(cfg)}: forward and parameter gradients (L = 1, 35, 99, 49; N = 1, 3, 5, 2; d = 3, 5, 17, 6; repeated partners; λ)`, async () => {
      const e = await testEngine();
      force(e, cfg);
      let ran = 0;
      for (const [k, c] of CASES.entries()) {
        if (!mixBlockConfigValid(e, problemOf(c, true), cfg)) continue;
        ran++;
        const x = data(c, 40 * k + 3);
        const ds = uniformData(c.N * c.h * c.w, 40 * k + 9);
        await e.asyncScope(async () => {
          const z = e.tensor(x.z, [c.N, c.C, c.h, c.w]);
          const perm = e.tensor(c.perm, [c.N], { dtype: 'i32' });
          const wq = e.tensor(x.wq, [c.d, x.Cp], { requiresGrad: true });
          const bq = e.tensor(x.bq, [c.d], { requiresGrad: true });
          const wv = e.tensor(x.wv, [1, x.Cp], { requiresGrad: true });
          const bv = e.tensor(x.bv, [1], { requiresGrad: true });
          const want = mixBlockLogitsRef(x.z, c.perm, x.wq, x.bq, x.wv, x.bv, dimsOf(c), c.lam);
          // Forward only (no gradient recorded) and training: the same configuration, forced.
          const s0 = e.noGrad(() => ops.mixBlockLogits(z, perm, wq, bq, wv, bv, { lam: c.lam }));
          expectAllClose(await s0.read(), want, FWD);
          const s = ops.mixBlockLogits(z, perm, wq, bq, wv, bv, { lam: c.lam });
          expectAllClose(await s.read(), want, FWD);
          s.backward(e.tensor(ds, s.shape));
          const r = mixBlockLogitsBackwardRef(x.z, c.perm, x.wq, x.bq, x.wv, x.bv, ds, dimsOf(c), c.lam);
          expectAllClose(await wq.grad!.read(), r.dwq, BWD);
          expectAllClose(await bq.grad!.read(), r.dbq, BWD);
          expectAllClose(await wv.grad!.read(), r.dwv, BWD);
          expectAllClose(await bv.grad!.read(), r.dbv, BWD);
          for (const t of [wq, bq, wv, bv]) t.grad!.dispose();
        });
      }
      // Every configuration fits at least the small cases on any adapter that grants its workgroup:
      // a smaller device (WebGPU's default limits, compatibility mode) refuses the larger tiles.
      const tooLarge =
        (cfg.constants['WG'] ?? 0) > e.maxWorkgroupSize ||
        (cfg.variant === 'tiled' && tiledSmem(cfg.constants).bytes > e.limits.maxComputeWorkgroupStorageSize);
      if (tooLarge) expect(ran).toBe(0);
      else expect(ran).toBeGreaterThanOrEqual(2);
    });
  }
});

describe('mixBlockLogits: finite-difference gradcheck per variant', () => {
  const variants: TuneConfig[] = [
    { variant: 'unfused', constants: {} },
    { variant: 'fused', constants: { WG: 8 } },
    tiledConfig([16, 16, 16, 2, 2]), // L = 20: two query and two key blocks, so two parts of each
    tiledConfig([32, 32, 32, 8, 8]),
  ];
  for (const cfg of variants) {
    for (const lam of [undefined, 0.35]) {
      it(`${describeMixBlockConfig(cfg)}${lam === undefined ? '' : ', λ channel'}: gradcheck w.r.t. wq, bq, wv, bv (N = 3, C = 4, 4×5, d = 5, π = [2, 2, 0])`, async () => {
        const e = await testEngine();
        force(e, cfg);
        const c: Case = { N: 3, C: 4, h: 4, w: 5, d: 5, perm: [2, 2, 0], lam };
        await gradcheckMixBlock(e, c, 77);
      });
    }
  }
});

/**
 * A Mix Block attention test case (batch, channels, map, query width, the
 * partner permutation, the optional λ channel), its seeded inputs, the
 * reference's dimensions, and the finite-difference check of the four
 * parameter gradients that every attention form must pass.
 */
import type { Engine } from '../../src/engine.js';
import { ops } from '../../src/index.js';
import type { MixBlockOptions } from '../../src/ops/mix-block-attention.js';
import { mixBlockLogitsRef } from '../../src/reference/mix-block-attention.js';
import { uniformData } from './allclose.js';
import { gradcheck } from './gradcheck.js';

export interface MixBlockCase {
  N: number;
  C: number;
  h: number;
  w: number;
  d: number;
  perm: number[];
  lam?: number;
}

/** Seeded inputs of a case; `Cp` is C plus the λ channel when there is one. */
export function mixBlockData(c: MixBlockCase, seed: number) {
  const Cp = c.C + (c.lam === undefined ? 0 : 1);
  return {
    z: uniformData(c.N * c.C * c.h * c.w, seed),
    wq: uniformData(c.d * Cp, seed + 1).map((x) => 0.5 * x),
    bq: uniformData(c.d, seed + 2).map((x) => 0.5 * x),
    wv: uniformData(Cp, seed + 3),
    bv: uniformData(1, seed + 4),
    Cp,
  };
}

/** The reference's dimensions of a case. */
export const mixBlockDims = (c: MixBlockCase) => ({ N: c.N, C: c.C, L: c.h * c.w, d: c.d });

/** Finite differences of the reference vs the op's gradients to W_q, b_q, w_v, b_v (no gradient to z). */
export async function gradcheckMixBlock(e: Engine, c: MixBlockCase, seed: number, opts: MixBlockOptions = {}): Promise<void> {
  const x = mixBlockData(c, seed);
  const perm = e.tensor(c.perm, [c.N], { dtype: 'i32' });
  await gradcheck(
    e,
    [
      { data: x.z, shape: [c.N, c.C, c.h, c.w], grad: false },
      { data: x.wq, shape: [c.d, x.Cp] },
      { data: x.bq, shape: [c.d] },
      { data: x.wv, shape: [1, x.Cp] },
      { data: x.bv, shape: [1] },
    ],
    ([z, wq, bq, wv, bv]) => ops.mixBlockLogits(z!, perm, wq!, bq!, wv!, bv!, { ...opts, lam: c.lam }),
    ([z, wq, bq, wv, bv]) => mixBlockLogitsRef(z!, c.perm, wq!, bq!, wv!, bv!, mixBlockDims(c), c.lam),
  );
  perm.dispose();
}

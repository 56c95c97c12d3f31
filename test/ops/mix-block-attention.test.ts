/**
 * Mix Block attention vs src/reference/mix-block-attention.ts, for the three
 * forms requested by name (impl 'fused', 'tiled', 'unfused'); every tuned
 * configuration is in mix-block-attention-configs.test.ts, the tuner family in
 * mix-block-attention-tuning.test.ts.
 *
 * Weights are drawn from U(−0.5, 0.5), far larger than the N(0, 0.01²) init,
 * so the attention is peaked and the softmax is really exercised.
 * Tolerances (|gpu − ref| ≤ atol + rtol·|ref|):
 *   forward s:                     atol 2e-5, rtol 2e-4  (f32 scores over C·d terms, then exp)
 *   gradcheck (f64 central diff.): atol 1e-4, rtol 1e-3  (the helper's default)
 *   backward vs reference:         atol 1e-4, rtol 2e-3  (sums over N·L·L·d terms in f32)
 */
import { describe, expect, it } from 'vitest';
import { type Engine, ops, ShapeError } from '../../src/index.js';
import { mixBlockLogitsBackwardRef, mixBlockLogitsRef } from '../../src/reference/mix-block-attention.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheckMixBlock, type MixBlockCase, mixBlockData, mixBlockDims } from '../helpers/mix-block-case.js';

const IMPLS = ['fused', 'tiled', 'unfused'] as const;
const FWD = { atol: 2e-5, rtol: 2e-4 };
const BWD = { atol: 1e-4, rtol: 2e-3 };

type Case = MixBlockCase;

const data = mixBlockData;

function upload(e: Engine, c: Case, x: ReturnType<typeof data>, requiresGrad = false) {
  return {
    z: e.tensor(x.z, [c.N, c.C, c.h, c.w]),
    perm: e.tensor(c.perm, [c.N], { dtype: 'i32' }),
    wq: e.tensor(x.wq, [c.d, x.Cp], { requiresGrad }),
    bq: e.tensor(x.bq, [c.d], { requiresGrad }),
    wv: e.tensor(x.wv, [1, x.Cp], { requiresGrad }),
    bv: e.tensor(x.bv, [1], { requiresGrad }),
  };
}

const dimsOf = mixBlockDims;

describe('mixBlockLogits forward', () => {
  const cases: Case[] = [
    { N: 1, C: 1, h: 3, w: 5, d: 3, perm: [0] },
    { N: 1, C: 1, h: 3, w: 5, d: 3, perm: [0], lam: 0.7 },
    { N: 3, C: 5, h: 3, w: 5, d: 5, perm: [2, 0, 2] },
    { N: 3, C: 5, h: 3, w: 5, d: 7, perm: [1, 2, 0], lam: 0.3 },
    { N: 2, C: 12, h: 16, w: 16, d: 6, perm: [1, 0] },
    { N: 2, C: 12, h: 16, w: 16, d: 6, perm: [1, 1], lam: 0.55 },
  ];
  for (const impl of IMPLS) {
    it(`${impl}: matches the reference (N = 1 with π = [0], C = 1, 3×5, odd d, L = 256, with and without λ)`, async () => {
      const e = await testEngine();
      for (const [k, c] of cases.entries()) {
        const x = data(c, 10 * k + 1);
        const t = upload(e, c, x);
        const s = ops.mixBlockLogits(t.z, t.perm, t.wq, t.bq, t.wv, t.bv, { lam: c.lam, impl });
        expect(s.shape).toEqual([c.N, 1, c.h, c.w]);
        const want = mixBlockLogitsRef(x.z, c.perm, x.wq, x.bq, x.wv, x.bv, dimsOf(c), c.lam);
        expectAllClose(await s.read(), want, FWD);
      }
    });
  }
});

describe('mixBlockLogits backward', () => {
  for (const impl of IMPLS) {
    for (const lam of [undefined, 0.35]) {
      it(`${impl}${lam === undefined ? '' : ', λ channel'}: gradcheck w.r.t. wq, bq, wv, bv (N = 2, C = 6, 3×3, d = 3)`, async () => {
        const e = await testEngine();
        const c: Case = { N: 2, C: 6, h: 3, w: 3, d: 3, perm: [1, 0], lam };
        await gradcheckMixBlock(e, c, 77, { impl });
      });
    }

    it(`${impl}: matches the reference backward (N = 4, C = 32, 8×8, d = 16, repeated partner; with and without λ)`, async () => {
      const e = await testEngine();
      for (const lam of [undefined, 0.6]) {
        const c: Case = { N: 4, C: 32, h: 8, w: 8, d: 16, perm: [2, 0, 2, 1], lam };
        const x = data(c, 5);
        const t = upload(e, c, x, true);
        const ds = uniformData(c.N * c.h * c.w, 99);
        const s = ops.mixBlockLogits(t.z, t.perm, t.wq, t.bq, t.wv, t.bv, { lam, impl });
        s.backward(e.tensor(ds, s.shape));
        const r = mixBlockLogitsBackwardRef(x.z, c.perm, x.wq, x.bq, x.wv, x.bv, ds, dimsOf(c), lam);
        expectAllClose(await t.wq.grad!.read(), r.dwq, BWD);
        expectAllClose(await t.bq.grad!.read(), r.dbq, BWD);
        expectAllClose(await t.wv.grad!.read(), r.dwv, BWD);
        expectAllClose(await t.bv.grad!.read(), r.dbv, BWD);
      }
    });
  }

  it('the default implementation (unfused while recording) matches the reference backward', async () => {
    const e = await testEngine();
    const c: Case = { N: 3, C: 8, h: 3, w: 5, d: 5, perm: [1, 1, 0], lam: 0.25 };
    const x = data(c, 8);
    const t = upload(e, c, x, true);
    const ds = uniformData(c.N * c.h * c.w, 98);
    const s = ops.mixBlockLogits(t.z, t.perm, t.wq, t.bq, t.wv, t.bv, { lam: c.lam });
    expectAllClose(await s.read(), mixBlockLogitsRef(x.z, c.perm, x.wq, x.bq, x.wv, x.bv, dimsOf(c), c.lam), FWD);
    s.backward(e.tensor(ds, s.shape));
    const r = mixBlockLogitsBackwardRef(x.z, c.perm, x.wq, x.bq, x.wv, x.bv, ds, dimsOf(c), c.lam);
    expectAllClose(await t.wq.grad!.read(), r.dwq, BWD);
    expectAllClose(await t.bv.grad!.read(), r.dbv, BWD);
  });

  it('fused, tiled and unfused agree on a CIFAR-sized block (N = 3, C = 24, 16×16, d = 12)', async () => {
    const e = await testEngine();
    const c: Case = { N: 3, C: 24, h: 16, w: 16, d: 12, perm: [2, 0, 1] };
    const x = data(c, 31);
    const ds = uniformData(c.N * c.h * c.w, 32);
    const out: Float32Array[][] = [];
    for (const impl of IMPLS) {
      const t = upload(e, c, x, true);
      const s = ops.mixBlockLogits(t.z, t.perm, t.wq, t.bq, t.wv, t.bv, { impl });
      const sv = await s.read();
      s.backward(e.tensor(ds, s.shape));
      out.push([sv, await t.wq.grad!.read(), await t.bq.grad!.read(), await t.wv.grad!.read(), await t.bv.grad!.read()]);
    }
    for (const other of out.slice(1)) out[0]!.forEach((a, i) => expectAllClose(a, other[i]!, BWD));
  });
});

describe('mixBlockLogits errors', () => {
  it('refuses a gradient to z', async () => {
    const e = await testEngine();
    const c: Case = { N: 2, C: 3, h: 2, w: 2, d: 2, perm: [1, 0] };
    const t = upload(e, c, data(c, 1));
    const z = e.tensor(uniformData(2 * 3 * 4, 3), [2, 3, 2, 2], { requiresGrad: true });
    expect(() => ops.mixBlockLogits(z, t.perm, t.wq, t.bq, t.wv, t.bv)).toThrow(/no gradient/);
    // Under noGrad nothing asks for one.
    expect(e.noGrad(() => ops.mixBlockLogits(z, t.perm, t.wq, t.bq, t.wv, t.bv)).shape).toEqual([2, 1, 2, 2]);
  });

  it('bad shapes throw ShapeError', async () => {
    const e = await testEngine();
    const c: Case = { N: 2, C: 3, h: 2, w: 2, d: 2, perm: [1, 0] };
    const t = upload(e, c, data(c, 1));
    const f = (s: number[]) =>
      e.tensor(
        uniformData(
          s.reduce((a, b) => a * b, 1),
          2,
        ),
        s,
      );
    const call = (o: Partial<typeof t>, lam?: number) => () => {
      const a = { ...t, ...o };
      return ops.mixBlockLogits(a.z, a.perm, a.wq, a.bq, a.wv, a.bv, { lam });
    };
    expect(call({ z: f([2, 3, 4]) })).toThrow(ShapeError);
    expect(call({ perm: f([2]) })).toThrow(ShapeError); // f32 perm
    expect(call({ perm: e.tensor([0, 1, 0], [3], { dtype: 'i32' }) })).toThrow(ShapeError);
    expect(call({ wq: f([2, 4]) })).toThrow(ShapeError); // C' = 4 without λ
    expect(call({}, 0.5)).toThrow(ShapeError); // λ channel needs C' = C + 1
    expect(call({ bq: f([3]) })).toThrow(ShapeError);
    expect(call({ wv: f([3]) })).toThrow(ShapeError);
    expect(call({ bv: f([2]) })).toThrow(ShapeError);
    expect(call({ wq: f([2, 4]), wv: f([1, 4]) }, 0.5)().shape).toEqual([2, 1, 2, 2]);
  });
});

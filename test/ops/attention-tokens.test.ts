/**
 * attentionTokens (token-major multi-head attention, src/ops/attention.ts) in
 * each form, forced by name, vs src/reference/attention.ts (f64), on awkward
 * shapes; the 'unfused' form also bit for bit against permute → attention →
 * permute (the same arithmetic). Gradchecks of q, k and v per form.
 * Tolerances (|gpu − ref| ≤ atol + rtol·|ref|):
 *   forward:                       atol 1e-5, rtol 1e-4  (f32 dots over dh ≤ 80 terms, then exp)
 *   backward vs reference:         atol 2e-5, rtol 1e-3  (sums over L·dh terms in f32)
 *   gradcheck (f64 central diff.): the helper's default, atol 1e-4, rtol 1e-3
 */
import { describe, expect, it } from 'vitest';
import { type Engine, ops, ShapeError, type Tensor } from '../../src/index.js';
import { attentionBackwardRef, attentionRef } from '../../src/reference/attention.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const IMPLS = ['unfused', 'fused', 'tiled'] as const;
/** The tiled kernels loop to override constants (DH, DV, BK): llvmpipe takes seconds to build each shape's pipelines. */
const BUILD_TIMEOUT = 600_000;
const FWD = { atol: 1e-5, rtol: 1e-4 };
const BWD = { atol: 2e-5, rtol: 1e-3 };

/** [N, L, H, d] → [N, H, L, d] (host). */
function toHeads(x: ArrayLike<number>, N: number, L: number, H: number, d: number): Float64Array {
  const y = new Float64Array(N * L * H * d);
  for (let n = 0; n < N; n++)
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) for (let c = 0; c < d; c++) y[((n * H + h) * L + l) * d + c] = x[((n * L + l) * H + h) * d + c]!;
  return y;
}
function toTokens(x: ArrayLike<number>, N: number, L: number, H: number, d: number): Float64Array {
  const y = new Float64Array(N * L * H * d);
  for (let n = 0; n < N; n++)
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) for (let c = 0; c < d; c++) y[((n * L + l) * H + h) * d + c] = x[((n * H + h) * L + l) * d + c]!;
  return y;
}

// [N, H, Lq, Lk, dh, dv]: L = 1, L not a multiple of any tile or width, H = 1 and 3, batch 1, dh not a multiple of 4, dv ≠ dh.
const SHAPES = [
  [1, 1, 1, 1, 1, 1],
  [1, 3, 1, 5, 4, 4],
  [2, 3, 5, 7, 3, 5],
  [1, 1, 33, 17, 6, 2],
  [2, 3, 65, 65, 64, 64],
  [1, 2, 70, 70, 80, 12],
] as const;

function data(N: number, H: number, Lq: number, Lk: number, dh: number, dv: number, seed: number) {
  return {
    q: uniformData(N * Lq * H * dh, seed).map((x) => 2 * x),
    k: uniformData(N * Lk * H * dh, seed + 1).map((x) => 2 * x),
    v: uniformData(N * Lk * H * dv, seed + 2),
    g: uniformData(N * Lq * H * dv, seed + 3),
  };
}

function upload(e: Engine, x: ReturnType<typeof data>, [N, H, Lq, Lk, dh, dv]: readonly number[], requiresGrad = false) {
  return {
    q: e.tensor(x.q, [N!, Lq!, H!, dh!], { requiresGrad }),
    k: e.tensor(x.k, [N!, Lk!, H!, dh!], { requiresGrad }),
    v: e.tensor(x.v, [N!, Lk!, H!, dv!], { requiresGrad }),
  };
}

describe('attentionTokens', () => {
  for (const impl of IMPLS) {
    it(
      `${impl}: forward and backward match the reference on awkward shapes`,
      async () => {
        const e = await testEngine();
        for (const [si, sh] of SHAPES.entries()) {
          const [N, H, Lq, Lk, dh, dv] = sh;
          const x = data(N, H, Lq, Lk, dh, dv, 10 * si + 1);
          const t = upload(e, x, sh, true);
          const y = ops.attentionTokens(t.q, t.k, t.v, { impl, scale: 0.6 });
          expect(y.shape).toEqual([N, Lq, H, dv]);
          const d = { BH: N * H, Lq, Lk, dh, dv };
          const [qh, kh, vh, gh] = [toHeads(x.q, N, Lq, H, dh), toHeads(x.k, N, Lk, H, dh), toHeads(x.v, N, Lk, H, dv), toHeads(x.g, N, Lq, H, dv)];
          expectAllClose(await y.read(), toTokens(attentionRef(qh, kh, vh, d, 0.6), N, Lq, H, dv), FWD);
          y.backward(e.tensor(x.g, [N, Lq, H, dv]));
          const r = attentionBackwardRef(qh, kh, vh, gh, d, 0.6);
          expectAllClose(await t.q.grad!.read(), toTokens(r.dq, N, Lq, H, dh), BWD);
          expectAllClose(await t.k.grad!.read(), toTokens(r.dk, N, Lk, H, dh), BWD);
          expectAllClose(await t.v.grad!.read(), toTokens(r.dv, N, Lk, H, dv), BWD);
        }
      },
      BUILD_TIMEOUT,
    );

    it(`${impl}: gradchecks w.r.t. q, k and v (N = 2, H = 3, Lq = 3, Lk = 5, dh = 3, dv = 2)`, async () => {
      const e = await testEngine();
      const [N, H, Lq, Lk, dh, dv] = [2, 3, 3, 5, 3, 2];
      const d = { BH: N * H, Lq, Lk, dh, dv };
      await gradcheck(
        e,
        [
          { data: uniformData(N * Lq * H * dh, 4), shape: [N, Lq, H, dh] },
          { data: uniformData(N * Lk * H * dh, 5), shape: [N, Lk, H, dh] },
          { data: uniformData(N * Lk * H * dv, 6), shape: [N, Lk, H, dv] },
        ],
        ([q, k, v]) => ops.attentionTokens(q!, k!, v!, { impl, scale: 0.7 }),
        ([q, k, v]) => toTokens(attentionRef(toHeads(q!, N, Lq, H, dh), toHeads(k!, N, Lk, H, dh), toHeads(v!, N, Lk, H, dv), d, 0.7), N, Lq, H, dv),
      );
    });
  }

  it('unfused is bit-identical to permute → attention → permute, forward and backward', async () => {
    const e = await testEngine();
    for (const [si, sh] of SHAPES.entries()) {
      const [N, H, Lq, Lk, dh, dv] = sh;
      const x = data(N, H, Lq, Lk, dh, dv, 10 * si + 2);
      const a = upload(e, x, sh, true);
      const b = upload(e, x, sh, true);
      const split = (t: Tensor) => ops.permute(t, [0, 2, 1, 3]);
      const want = ops.permute(ops.attention(split(a.q), split(a.k), split(a.v), 0.6), [0, 2, 1, 3]);
      const got = ops.attentionTokens(b.q, b.k, b.v, { impl: 'unfused', scale: 0.6 });
      expectSameBits(await got.read(), await want.read(), `out ${sh}`);
      const g = e.tensor(x.g, [N, Lq, H, dv]);
      want.backward(g);
      got.backward(g);
      for (const n of ['q', 'k', 'v'] as const) expectSameBits(await b[n].grad!.read(), await a[n].grad!.read(), `d${n} ${sh}`);
    }
  });

  it('only the inputs that require grad get one', async () => {
    const e = await testEngine();
    for (const impl of IMPLS) {
      const sh = [1, 2, 5, 5, 4, 4] as const;
      const x = data(...sh, 3);
      const t = upload(e, x, sh);
      t.k.requiresGrad = true;
      ops.attentionTokens(t.q, t.k, t.v, { impl }).backward(e.tensor(x.g, [1, 5, 2, 4]));
      expect(t.q.grad).toBeFalsy();
      expect(t.v.grad).toBeFalsy();
      expect(t.k.grad).toBeTruthy();
    }
  });

  it('bad shapes throw ShapeError; fused refuses dh > 128', async () => {
    const e = await testEngine();
    const t = (s: number[]) =>
      e.tensor(
        uniformData(
          s.reduce((a, b) => a * b, 1),
          1,
        ),
        s,
      );
    expect(() => ops.attentionTokens(t([2, 4, 3]), t([2, 4, 3]), t([2, 4, 3]))).toThrow(ShapeError);
    expect(() => ops.attentionTokens(t([1, 4, 2, 3]), t([1, 4, 2, 5]), t([1, 4, 2, 3]))).toThrow(ShapeError);
    expect(() => ops.attentionTokens(t([1, 4, 2, 3]), t([1, 6, 2, 3]), t([1, 5, 2, 3]))).toThrow(ShapeError);
    expect(() => ops.attentionTokens(t([1, 4, 2, 3]), t([1, 4, 1, 3]), t([1, 4, 1, 3]))).toThrow(ShapeError);
    const big = t([1, 2, 1, 132]);
    expect(() => ops.attentionTokens(big, big, big, { impl: 'fused' })).toThrow(ShapeError);
    // 'auto' falls back to a form that runs it
    expect((await ops.attentionTokens(big, big, big).read()).length).toBe(2 * 132);
  });
});

// Batched matmul vs the f64 reference: all transpose combinations, batched and
// broadcast operands, bias + ReLU, shapes that hit the vec4/subgroup kernel
// (contiguous dims multiples of 4) and the general kernel (odd shapes).
// Tolerances: atol 1e-5·√K-scaled (f32 accumulation over K terms of |x| ≤ 1),
// rtol 1e-4; gradcheck atol 1e-4 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops, ShapeError } from '../../src/index.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { expectAllClose, randn } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const tolFor = (K: number) => ({ atol: 2e-6 * Math.sqrt(K) + 1e-6, rtol: 1e-4 });

// [M, K, N]
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [33, 65, 17],
  [1, 7, 1],
  [257, 129, 65],
  [37, 20, 36], // vec4 path, M not a multiple of the tile, N not a multiple of 32
  [8, 4, 4],
  [1, 12, 8],
  [70, 64, 100],
  // Regression: the subgroup kernel steps k by 4; with K = 6 and Aᵀ it once
  // took this shape and returned wrong values (found by the Mix Block tests).
  [256, 6, 256],
  [16, 6, 8],
];

describe('matmul', async () => {
  const e = await testEngine();
  for (const [M, K, N] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`[${M}×${K}]·[${K}×${N}] transA=${transA} transB=${transB}`, async () => {
          await e.asyncScope(async () => {
            const ad = randn(M * K, M + K + (transA ? 1 : 0));
            const bd = randn(K * N, N + 3 * K + (transB ? 1 : 0));
            const a = e.tensor(ad, transA ? [K, M] : [M, K]);
            const b = e.tensor(bd, transB ? [N, K] : [K, N]);
            const c = ops.matmul(a, b, { transA, transB });
            expect(c.shape).toEqual([M, N]);
            expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K, transA, transB }), tolFor(K));
          });
        });
      }
    }
  }

  for (const [M, K, N] of [
    [5, 7, 3],
    [8, 16, 40],
  ] as [number, number, number][]) {
    it(`bias and ReLU epilogue, all transposes [${M}×${K}×${N}]`, async () => {
      await e.asyncScope(async () => {
        const bias = randn(N, 77);
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const ad = randn(M * K, 5), bd = randn(K * N, 6);
            const a = e.tensor(ad, transA ? [K, M] : [M, K]);
            const b = e.tensor(bd, transB ? [N, K] : [K, N]);
            const bt = e.tensor(bias, [N]);
            for (const activation of ['none', 'relu'] as const) {
              const c = ops.matmul(a, b, { transA, transB, bias: bt, activation });
              expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K, transA, transB, bias, activation }), tolFor(K));
            }
          }
        }
      });
    });
  }

  for (const [M, K, N] of [
    [5, 6, 7],
    [9, 8, 12],
  ] as [number, number, number][]) {
    it(`batched and broadcast-batch operands [3, ${M}×${K}×${N}]`, async () => {
      await e.asyncScope(async () => {
        const B = 3;
        const ad = randn(B * M * K, 8), bd = randn(B * K * N, 9);
        const a2 = randn(M * K, 10), b2 = randn(K * N, 11);
        for (const transB of [false, true]) {
          const bShape = transB ? [B, N, K] : [B, K, N];
          const b2Shape = transB ? [N, K] : [K, N];
          // both batched
          let c = ops.matmul(e.tensor(ad, [B, M, K]), e.tensor(bd, bShape), { transB });
          expect(c.shape).toEqual([B, M, N]);
          expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K, batch: B, aBatched: true, bBatched: true, transB }), tolFor(K));
          // A shared across the batch
          c = ops.matmul(e.tensor(a2, [M, K]), e.tensor(bd, bShape), { transB });
          expectAllClose(await c.read(), matmulRef(a2, bd, { M, N, K, batch: B, aBatched: false, bBatched: true, transB }), tolFor(K));
          // B shared across the batch, transposed A
          c = ops.matmul(e.tensor(ad, [B, K, M]), e.tensor(b2, b2Shape), { transA: true, transB });
          expectAllClose(await c.read(), matmulRef(ad, b2, { M, N, K, batch: B, aBatched: true, bBatched: false, transA: true, transB }), tolFor(K));
        }
      });
    });
  }

  it('512×512×512', async () => {
    await e.asyncScope(async () => {
      const n = 512;
      const ad = randn(n * n, 21), bd = randn(n * n, 22);
      const c = await ops.matmul(e.tensor(ad, [n, n]), e.tensor(bd, [n, n])).read();
      // full check against the reference in f64 would take ~1 s of JS: check 64 rows
      const rows = Array.from({ length: 64 }, (_, i) => (i * 37) % n);
      const sub = new Float64Array(64 * n), got = new Float32Array(64 * n);
      const aRows = new Float32Array(64 * n);
      rows.forEach((r, i) => {
        aRows.set(ad.subarray(r * n, (r + 1) * n), i * n);
        got.set(c.subarray(r * n, (r + 1) * n), i * n);
      });
      sub.set(matmulRef(aRows, bd, { M: 64, N: n, K: n }));
      expectAllClose(got, sub, tolFor(n));
    });
  });

  it('K = 0 gives zeros; empty outputs', async () => {
    await e.asyncScope(async () => {
      const c = ops.matmul(e.tensor([], [3, 0]), e.tensor([], [0, 4]));
      expectAllClose(await c.read(), new Float32Array(12));
    });
  });

  it('bad shapes throw ShapeError', async () => {
    await e.asyncScope(async () => {
      const a = e.tensor(randn(6, 1), [2, 3]);
      expect(() => ops.matmul(a, e.tensor(randn(8, 1), [4, 2]))).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor(randn(6, 1), [2, 3]))).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor(randn(6, 1), [3, 2]), { transA: true })).toThrow(ShapeError);
      expect(() => ops.matmul(e.tensor(randn(3, 1), [3]), e.tensor(randn(6, 1), [3, 2]))).toThrow(ShapeError);
      expect(() => ops.matmul(e.tensor(randn(24, 1), [2, 2, 3, 2]), e.tensor(randn(6, 1), [2, 3]))).toThrow(ShapeError);
      expect(() => ops.matmul(e.tensor(randn(12, 1), [2, 2, 3]), e.tensor(randn(18, 1), [3, 3, 2]))).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor(randn(6, 1), [3, 2]), { bias: e.tensor([1, 2, 3], [3]) })).toThrow(ShapeError);
      expect(() => ops.matmul(a, e.tensor([1, 2, 3, 4, 5, 6], [3, 2], { dtype: 'i32' }))).toThrow(ShapeError);
    });
  });

  // gradcheck w.r.t. A, B and bias; one shape per kernel path.
  for (const [M, K, N] of [
    [3, 5, 2],
    [4, 8, 4],
  ] as [number, number, number][]) {
    for (const [transA, transB] of [
      [false, false],
      [true, true],
    ] as [boolean, boolean][]) {
      for (const activation of ['none', 'relu'] as const) {
        it(`gradcheck matmul+bias ${activation} [${M}×${K}×${N}] tA=${transA} tB=${transB}`, async () => {
          const ad = randn(M * K, 41), bd = randn(K * N, 42);
          // keep pre-activations away from the ReLU kink for finite differences
          const bias = Float32Array.from(randn(N, 43), (v) => v + (v > 0 ? 0.3 : -0.3));
          await gradcheck(
            e,
            [
              { data: ad, shape: transA ? [K, M] : [M, K] },
              { data: bd, shape: transB ? [N, K] : [K, N] },
              { data: bias, shape: [N] },
            ],
            ([a, b, bb]) => ops.matmul(a!, b!, { transA, transB, bias: bb!, activation }),
            ([a, b, bb]) => matmulRef(a!, b!, { M, N, K, transA, transB, bias: bb!, activation }),
          );
        });
      }
    }
  }
  it('gradcheck batched A with shared B [2, 4×8×4]', async () => {
    await gradcheck(
      e,
      [
        { data: randn(2 * 4 * 8, 51), shape: [2, 4, 8] },
        { data: randn(8 * 4, 52), shape: [8, 4] },
      ],
      ([a, b]) => ops.matmul(a!, b!),
      ([a, b]) => matmulRef(a!, b!, { M: 4, N: 4, K: 8, batch: 2, aBatched: true, bBatched: false }),
    );
  });
});

// Fused (mixed) cross-entropy vs the f64 reference.
// Tolerances: loss atol 1e-5 / rtol 1e-5; gradient atol 1e-6 / rtol 1e-4;
// gradcheck atol 1e-4 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops, ShapeError, type Tensor } from '../../src/index.js';
import { crossEntropyRef, mixedCrossEntropyBackwardRef, mixedCrossEntropyRef } from '../../src/reference/cross-entropy.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const scaled = (n: number, seed: number, s: number): Float32Array => uniformData(n, seed).map((v) => v * s);
const labelsFor = (n: number, c: number, seed: number): Int32Array =>
  Int32Array.from(uniformData(n, seed), (v) => Math.min(c - 1, Math.floor(((v + 1) / 2) * c)));
const lossTol = { atol: 1e-5, rtol: 1e-5 };
const gradTol = { atol: 1e-6, rtol: 1e-4 };

describe('crossEntropy / mixedCrossEntropy', async () => {
  const e = await testEngine();
  // [N, C]: batch 1, two classes, C ≤ 64 (thread per row) and > 64 (workgroup per row).
  const shapes: [number, number][] = [
    [1, 2],
    [1, 10],
    [7, 3],
    [128, 10],
    [5, 100],
    [2, 1000],
    [3, 8192],
  ];
  for (const [N, C] of shapes) {
    it(`forward and backward [${N}, ${C}]`, async () => {
      await e.asyncScope(async () => {
        const xd = scaled(N * C, N + C, 5);
        const ya = labelsFor(N, C, 11 + C);
        const yb = labelsFor(N, C, 23 + N);
        const lamv = Float32Array.from(uniformData(N, 5), (v) => (v + 1) / 2);
        const la = e.tensor(ya, [N], { dtype: 'i32' });
        const lb = e.tensor(yb, [N], { dtype: 'i32' });
        const cases: [string, (x: Tensor) => Tensor, number, Float64Array][] = [
          ['plain', (x) => ops.crossEntropy(x, la), crossEntropyRef(xd, C, ya), mixedCrossEntropyBackwardRef(xd, C, ya, ya, 1)],
          [
            'mixed λ=0.3',
            (x) => ops.mixedCrossEntropy(x, la, lb, 0.3),
            mixedCrossEntropyRef(xd, C, ya, yb, 0.3),
            mixedCrossEntropyBackwardRef(xd, C, ya, yb, 0.3),
          ],
          [
            'mixed per-sample λ',
            (x) => ops.mixedCrossEntropy(x, la, lb, e.tensor(lamv, [N])),
            mixedCrossEntropyRef(xd, C, ya, yb, lamv),
            mixedCrossEntropyBackwardRef(xd, C, ya, yb, lamv),
          ],
        ];
        for (const [name, f, lref, gref] of cases) {
          const x = e.tensor(xd, [N, C], { requiresGrad: true });
          const loss = f(x);
          expect(loss.shape, name).toEqual([]);
          expectAllClose([await loss.item()], [lref], lossTol);
          loss.backward();
          expectAllClose(await x.grad!.read(), gref, gradTol);
        }
      });
    });
  }

  it('is stable for logits ±80', async () => {
    await e.asyncScope(async () => {
      const N = 4,
        C = 50;
      const xd = Float32Array.from(uniformData(N * C, 3), (v) => (v > 0 ? 80 : -80) * Math.abs(v));
      xd[7] = 80;
      xd[60] = -80;
      const ya = Int32Array.of(7, 10, 49, 0);
      const yb = Int32Array.of(1, 10, 3, 49);
      const x = e.tensor(xd, [N, C], { requiresGrad: true });
      const loss = ops.mixedCrossEntropy(x, e.tensor(ya, [N], { dtype: 'i32' }), e.tensor(yb, [N], { dtype: 'i32' }), 0.7);
      const v = await loss.item();
      expect(Number.isFinite(v)).toBe(true);
      expectAllClose([v], [mixedCrossEntropyRef(xd, C, ya, yb, 0.7)], { atol: 1e-4, rtol: 1e-5 });
      loss.backward();
      expectAllClose(await x.grad!.read(), mixedCrossEntropyBackwardRef(xd, C, ya, yb, 0.7), gradTol);
    });
  });

  it('an out-of-range label gives a NaN loss and NaN gradient row, never a bad read', async () => {
    await e.asyncScope(async () => {
      for (const C of [10, 100]) {
        const N = 3;
        const xd = uniformData(N * C, 4);
        const x = e.tensor(xd, [N, C], { requiresGrad: true });
        const bad = e.tensor(Int32Array.of(1, C, 2), [N], { dtype: 'i32' });
        const loss = ops.crossEntropy(x, bad);
        expect(Number.isNaN(await loss.item())).toBe(true);
        loss.backward();
        const g = await x.grad!.read();
        expect(g.slice(C, 2 * C).every(Number.isNaN)).toBe(true);
        expectAllClose(g.slice(0, C), mixedCrossEntropyBackwardRef(xd, C, [1, 0, 2], [1, 0, 2], 1).slice(0, C), gradTol);
        const neg = e.tensor(Int32Array.of(-1, 0, 0), [N], { dtype: 'i32' });
        expect(Number.isNaN(await ops.mixedCrossEntropy(x, neg, neg, 0.5).item())).toBe(true);
        const okA = e.tensor(Int32Array.of(0, 0, 0), [N], { dtype: 'i32' });
        expect(Number.isNaN(await ops.mixedCrossEntropy(x, okA, neg, 1).item())).toBe(true);
      }
    });
  });

  it('rejects bad shapes and dtypes with ShapeError', async () => {
    await e.asyncScope(async () => {
      const x = e.tensor(uniformData(12, 1), [3, 4]);
      const l3 = e.tensor([0, 1, 2], [3], { dtype: 'i32' });
      expect(() => ops.crossEntropy(x, e.tensor([0, 1, 2], [3]))).toThrow(ShapeError); // f32 labels
      expect(() => ops.crossEntropy(x, e.tensor([0, 1], [2], { dtype: 'i32' }))).toThrow(ShapeError);
      expect(() => ops.crossEntropy(x, e.tensor([0, 1, 2], [3, 1], { dtype: 'i32' }))).toThrow(ShapeError);
      expect(() => ops.crossEntropy(e.tensor(uniformData(12, 1), [12]), l3)).toThrow(ShapeError);
      expect(() => ops.crossEntropy(e.tensor(uniformData(24, 1), [2, 3, 4]), l3)).toThrow(ShapeError);
      expect(() => ops.mixedCrossEntropy(x, l3, e.tensor([0, 1], [2], { dtype: 'i32' }), 0.5)).toThrow(ShapeError);
      expect(() => ops.mixedCrossEntropy(x, l3, l3, e.tensor([0.5, 0.5], [2]))).toThrow(ShapeError);
      expect(() => ops.mixedCrossEntropy(x, l3, l3, NaN)).toThrow(ShapeError);
    });
  });

  const gshapes: [number, number][] = [
    [1, 2],
    [3, 5],
    [2, 70],
  ];
  for (const [N, C] of gshapes) {
    const ya = labelsFor(N, C, 7);
    const yb = labelsFor(N, C, 8);
    const lamv = Float32Array.from(uniformData(N, 9), (v) => (v + 1) / 2);
    it(`gradcheck crossEntropy [${N}, ${C}]`, async () => {
      await gradcheck(
        e,
        [{ data: scaled(N * C, C, 2), shape: [N, C] }],
        ([x]) => ops.crossEntropy(x!, e.tensor(ya, [N], { dtype: 'i32' })),
        ([x]) => [crossEntropyRef(x!, C, ya)],
      );
    });
    it(`gradcheck mixedCrossEntropy scalar λ [${N}, ${C}]`, async () => {
      await gradcheck(
        e,
        [{ data: scaled(N * C, C + 1, 2), shape: [N, C] }],
        ([x]) => ops.mixedCrossEntropy(x!, e.tensor(ya, [N], { dtype: 'i32' }), e.tensor(yb, [N], { dtype: 'i32' }), 0.35),
        ([x]) => [mixedCrossEntropyRef(x!, C, ya, yb, 0.35)],
      );
    });
    it(`gradcheck mixedCrossEntropy per-sample λ [${N}, ${C}]`, async () => {
      await gradcheck(
        e,
        [{ data: scaled(N * C, C + 2, 2), shape: [N, C] }],
        ([x]) => ops.mixedCrossEntropy(x!, e.tensor(ya, [N], { dtype: 'i32' }), e.tensor(yb, [N], { dtype: 'i32' }), e.tensor(lamv, [N])),
        ([x]) => [mixedCrossEntropyRef(x!, C, ya, yb, lamv)],
      );
    });
  }
  it('gradcheck logSoftmax → crossEntropy composition stays consistent', async () => {
    // CE of log-softmax output equals CE of the logits (log-softmax is idempotent).
    const N = 2,
      C = 4;
    const ya = Int32Array.of(3, 1);
    await gradcheck(
      e,
      [{ data: uniformData(N * C, 31), shape: [N, C] }],
      ([x]) => ops.crossEntropy(ops.logSoftmax(x!), e.tensor(ya, [N], { dtype: 'i32' })),
      ([x]) => [crossEntropyRef(x!, C, ya)],
    );
  });
});

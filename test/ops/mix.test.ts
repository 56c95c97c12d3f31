/**
 * Batch mixing ops vs src/reference/mix.ts. Forwards are exact up to one
 * rounding (a·x + b·y in f32): atol 1e-6, rtol 1e-5. Backwards sum at most a
 * handful of terms per element: atol 1e-5, rtol 1e-4. Gradchecks use the
 * helper's default (atol 1e-4, rtol 1e-3 against f64 central differences).
 */
import { describe, expect, it } from 'vitest';
import { ops, ShapeError } from '../../src/index.js';
import * as ref from '../../src/reference/mix.js';
import { expectAllClose, randn } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const FWD = { atol: 1e-6, rtol: 1e-5 };
const BWD = { atol: 1e-5, rtol: 1e-4 };

function rand01(n: number, seed: number): Float32Array {
  return randn(n, seed).map((v) => 0.5 + 0.5 * v);
}

describe('gatherBatch', () => {
  it('gathers rows of any rank, and a shorter perm', async () => {
    const e = await testEngine();
    const x = randn(5 * 3 * 7, 1);
    const xt = e.tensor(x, [5, 3, 7]);
    for (const perm of [[3, 0, 4, 1, 2], [2, 2], [0]]) {
      const p = e.tensor(perm, [perm.length], { dtype: 'i32' });
      const y = ops.gatherBatch(xt, p);
      expect(y.shape).toEqual([perm.length, 3, 7]);
      expectAllClose(await y.read(), ref.gatherBatchRef(x, perm, 5), FWD);
    }
  });

  it('backward scatter-adds over repeated indices', async () => {
    const e = await testEngine();
    const N = 4;
    const x = randn(N * 6, 2);
    const perm = [2, 0, 2, 2]; // row 2 is taken three times, rows 1 and 3 never
    const g = randn(N * 6, 3);
    const xt = e.tensor(x, [N, 2, 3], { requiresGrad: true });
    const y = ops.gatherBatch(xt, e.tensor(perm, [N], { dtype: 'i32' }));
    y.backward(e.tensor(g, [N, 2, 3]));
    const dx = await xt.grad!.read();
    expectAllClose(dx, ref.gatherBatchBackwardRef(g, perm, N), BWD);
    // Row 2 must hold G[0] + G[2] + G[3], rows 1 and 3 zero.
    for (let k = 0; k < 6; k++) {
      expect(dx[2 * 6 + k]).toBeCloseTo(g[0 * 6 + k]! + g[2 * 6 + k]! + g[3 * 6 + k]!, 5);
      expect(dx[1 * 6 + k]).toBe(0);
      expect(dx[3 * 6 + k]).toBe(0);
    }
  });

  it('gradchecks with a longer perm than the batch', async () => {
    const e = await testEngine();
    const perm = [1, 1, 0, 2, 1];
    const p = e.tensor(perm, [5], { dtype: 'i32' });
    await gradcheck(e, [{ data: randn(3 * 4, 4), shape: [3, 4] }], ([x]) => ops.gatherBatch(x!, p), ([x]) => ref.gatherBatchRef(x!, perm, 3));
  });
});

describe('maskedBlend', () => {
  it('matches the reference on awkward shapes (N = 1 with π = [0], C = 1, 3×5)', async () => {
    const e = await testEngine();
    for (const [N, C, H, W, perm] of [
      [1, 1, 3, 5, [0]],
      [3, 1, 3, 5, [2, 0, 1]],
      [4, 3, 7, 9, [1, 1, 3, 0]],
    ] as const) {
      const S = H * W;
      const x = randn(N * C * S, 5);
      const m = rand01(N * S, 6);
      const y = ops.maskedBlend(e.tensor(x, [N, C, H, W]), e.tensor(m, [N, 1, H, W]), e.tensor(perm, [N], { dtype: 'i32' }));
      expectAllClose(await y.read(), ref.maskedBlendRef(x, m, perm, { N, C, S }), FWD);
    }
  });

  it('gradchecks w.r.t. maskB and x (with a repeated partner)', async () => {
    const e = await testEngine();
    const [N, C, H, W] = [3, 2, 3, 5];
    const perm = [2, 2, 0];
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    await gradcheck(
      e,
      [
        { data: randn(N * C * H * W, 7), shape: [N, C, H, W] },
        { data: rand01(N * H * W, 8), shape: [N, 1, H, W] },
      ],
      ([x, m]) => ops.maskedBlend(x!, m!, p),
      ([x, m]) => ref.maskedBlendRef(x!, m!, perm, { N, C, S: H * W }),
    );
  });

  it('mask gradient alone (x needs none) is Σ_c (x[π] − x)⊙G', async () => {
    const e = await testEngine();
    const [N, C, H, W] = [4, 3, 4, 4];
    const perm = [3, 2, 1, 0];
    const x = randn(N * C * H * W, 9);
    const g = randn(N * C * H * W, 10);
    const m = e.tensor(rand01(N * H * W, 11), [N, 1, H, W], { requiresGrad: true });
    const xt = e.tensor(x, [N, C, H, W]);
    ops.maskedBlend(xt, m, e.tensor(perm, [N], { dtype: 'i32' })).backward(e.tensor(g, [N, C, H, W]));
    expect(xt.grad).toBeNull();
    expectAllClose(await m.grad!.read(), ref.blendBackwardMask(x, g, perm, { N, C, S: H * W }), BWD);
  });
});

describe('mixup, boxMix, maskMix', () => {
  it('mixup matches and gradchecks (both terms)', async () => {
    const e = await testEngine();
    const perm = [1, 0, 0];
    const p = e.tensor(perm, [3], { dtype: 'i32' });
    const x = randn(3 * 2 * 5, 12);
    const y = ops.mixup(e.tensor(x, [3, 2, 5]), p, 0.3);
    expectAllClose(await y.read(), ref.mixupRef(x, perm, 0.3, 3), FWD);
    await gradcheck(e, [{ data: x, shape: [3, 2, 5] }], ([t]) => ops.mixup(t!, p, 0.3), ([t]) => ref.mixupRef(t!, perm, 0.3, 3));
  });

  it('boxMix pastes the partner inside the box; gradchecks', async () => {
    const e = await testEngine();
    const [N, C, H, W] = [3, 2, 5, 7];
    const perm = [2, 0, 2];
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const x = randn(N * C * H * W, 13);
    for (const box of [{ y0: 1, x0: 2, y1: 4, x1: 7 }, { y0: 0, x0: 0, y1: 0, x1: 0 }, { y0: 0, x0: 0, y1: 5, x1: 7 }]) {
      const y = ops.boxMix(e.tensor(x, [N, C, H, W]), p, box);
      expectAllClose(await y.read(), ref.boxMixRef(x, perm, { N, C, S: H * W, W }, box), FWD);
    }
    const box = { y0: 1, x0: 2, y1: 4, x1: 6 };
    await gradcheck(e, [{ data: x, shape: [N, C, H, W] }], ([t]) => ops.boxMix(t!, p, box), ([t]) => ref.boxMixRef(t!, perm, { N, C, S: H * W, W }, box));
  });

  it('maskMix matches and gradchecks w.r.t. x and the shared mask', async () => {
    const e = await testEngine();
    const [N, C, H, W] = [2, 3, 3, 5];
    const perm = [1, 1];
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const x = randn(N * C * H * W, 14);
    const mask = rand01(H * W, 15);
    const y = ops.maskMix(e.tensor(x, [N, C, H, W]), e.tensor(mask, [H, W]), p);
    expectAllClose(await y.read(), ref.maskMixRef(x, mask, perm, { N, C, S: H * W }), FWD);
    await gradcheck(
      e,
      [
        { data: x, shape: [N, C, H, W] },
        { data: mask, shape: [H, W] },
      ],
      ([t, m]) => ops.maskMix(t!, m!, p),
      ([t, m]) => ref.maskMixRef(t!, m!, perm, { N, C, S: H * W }),
    );
  });
});

describe('mixing ops: bad shapes', () => {
  it('throw ShapeError', async () => {
    const e = await testEngine();
    const x = e.tensor(randn(2 * 3 * 4 * 4, 1), [2, 3, 4, 4]);
    const p2 = e.tensor([1, 0], [2], { dtype: 'i32' });
    const p3 = e.tensor([1, 0, 2], [3], { dtype: 'i32' });
    const pf = e.tensor([1, 0], [2]);
    expect(() => ops.gatherBatch(x, pf)).toThrow(ShapeError);
    expect(() => ops.mixup(x, p3, 0.5)).toThrow(ShapeError);
    expect(() => ops.maskedBlend(x, e.tensor(randn(40, 1), [2, 1, 4, 5]), p2)).toThrow(ShapeError);
    expect(() => ops.maskedBlend(x, e.tensor(randn(32, 1), [2, 16]), p2)).toThrow(ShapeError);
    expect(() => ops.boxMix(x, p2, { y0: 0, x0: 0, y1: 5, x1: 2 })).toThrow(ShapeError);
    expect(() => ops.boxMix(x, p2, { y0: 2, x0: 0, y1: 1, x1: 2 })).toThrow(ShapeError);
    expect(() => ops.maskMix(x, e.tensor(randn(16, 1), [4, 4]), p3)).toThrow(ShapeError);
    expect(() => ops.maskMix(x, e.tensor(randn(12, 1), [3, 4]), p2)).toThrow(ShapeError);
    expect(() => ops.boxMix(e.tensor(randn(6, 1), [2, 3]), p2, { y0: 0, x0: 0, y1: 1, x1: 1 })).toThrow(ShapeError);
  });
});

/**
 * Multi-head attention vs src/reference/attention.ts. Forward: f32 dot
 * products over dh ≤ 48 terms and a softmax, atol 1e-5 / rtol 1e-4.
 * Backward vs the f64 reference: atol 2e-5 / rtol 1e-3. Gradchecks: the
 * helper's default (atol 1e-4, rtol 1e-3 against f64 central differences).
 */
import { describe, expect, it } from 'vitest';
import { ops, ShapeError } from '../../src/index.js';
import { attentionBackwardRef, attentionRef } from '../../src/reference/attention.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

describe('attention', () => {
  it('forward matches on awkward shapes', async () => {
    const e = await testEngine();
    for (const [B, H, Lq, Lk, dh, dv] of [
      [1, 1, 1, 1, 1, 1],
      [2, 3, 5, 7, 3, 5],
      [1, 2, 65, 65, 48, 48],
    ] as const) {
      const q = uniformData(B * H * Lq * dh, 1).map((x) => 2 * x);
      const k = uniformData(B * H * Lk * dh, 2).map((x) => 2 * x);
      const v = uniformData(B * H * Lk * dv, 3);
      const y = ops.attention(e.tensor(q, [B, H, Lq, dh]), e.tensor(k, [B, H, Lk, dh]), e.tensor(v, [B, H, Lk, dv]));
      expect(y.shape).toEqual([B, H, Lq, dv]);
      expectAllClose(await y.read(), attentionRef(q, k, v, { BH: B * H, Lq, Lk, dh, dv }, 1 / Math.sqrt(dh)), { atol: 1e-5, rtol: 1e-4 });
    }
  });

  it('gradchecks w.r.t. q, k and v', async () => {
    const e = await testEngine();
    const [B, H, Lq, Lk, dh, dv] = [2, 2, 3, 4, 3, 2];
    const d = { BH: B * H, Lq, Lk, dh, dv };
    await gradcheck(
      e,
      [
        { data: uniformData(B * H * Lq * dh, 4), shape: [B, H, Lq, dh] },
        { data: uniformData(B * H * Lk * dh, 5), shape: [B, H, Lk, dh] },
        { data: uniformData(B * H * Lk * dv, 6), shape: [B, H, Lk, dv] },
      ],
      ([q, k, v]) => ops.attention(q!, k!, v!, 0.7),
      ([q, k, v]) => attentionRef(q!, k!, v!, d, 0.7),
    );
  });

  it('backward matches the reference on a ViT-sized case (L = 65, dh = 32)', async () => {
    const e = await testEngine();
    const [B, H, L, dh] = [2, 3, 65, 32];
    const n = B * H * L * dh;
    const [q, k, v, g] = [uniformData(n, 7), uniformData(n, 8), uniformData(n, 9), uniformData(n, 10)];
    const ts = [q, k, v].map((a) => e.tensor(a, [B, H, L, dh], { requiresGrad: true }));
    ops.attention(ts[0]!, ts[1]!, ts[2]!).backward(e.tensor(g, [B, H, L, dh]));
    const r = attentionBackwardRef(q, k, v, g, { BH: B * H, Lq: L, Lk: L, dh, dv: dh }, 1 / Math.sqrt(dh));
    const tol = { atol: 2e-5, rtol: 1e-3 };
    expectAllClose(await ts[0]!.grad!.read(), r.dq, tol);
    expectAllClose(await ts[1]!.grad!.read(), r.dk, tol);
    expectAllClose(await ts[2]!.grad!.read(), r.dv, tol);
  });

  it('bad shapes throw ShapeError', async () => {
    const e = await testEngine();
    const t = (s: number[]) =>
      e.tensor(
        uniformData(
          s.reduce((a, b) => a * b, 1),
          1,
        ),
        s,
      );
    expect(() => ops.attention(t([2, 4, 3]), t([2, 4, 3]), t([2, 4, 3]))).toThrow(ShapeError);
    expect(() => ops.attention(t([1, 2, 4, 3]), t([1, 2, 4, 5]), t([1, 2, 4, 3]))).toThrow(ShapeError);
    expect(() => ops.attention(t([1, 2, 4, 3]), t([1, 2, 6, 3]), t([1, 2, 5, 3]))).toThrow(ShapeError);
    expect(() => ops.attention(t([1, 2, 4, 3]), t([1, 1, 4, 3]), t([1, 1, 4, 3]))).toThrow(ShapeError);
  });
});

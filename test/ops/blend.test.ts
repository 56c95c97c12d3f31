/**
 * Batch mixing ops vs src/reference/blend.ts. Forwards are exact up to one
 * rounding (a·x + b·y in f32): atol 1e-6, rtol 1e-5. Backwards sum at most a
 * handful of terms per element: atol 1e-5, rtol 1e-4. Gradchecks use the
 * helper's default (atol 1e-4, rtol 1e-3 against f64 central differences).
 *
 * λ and the box passed as tensors (per-step values outside the uniform) must
 * give bit-for-bit the results of the number/Box forms, forward and backward,
 * and leave the uniform params the same whatever their values.
 */
import { describe, expect, it } from 'vitest';
import { type Engine, ops, ShapeError, type Tensor } from '../../src/index.js';
import * as ref from '../../src/reference/blend.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const FWD = { atol: 1e-6, rtol: 1e-5 };
const BWD = { atol: 1e-5, rtol: 1e-4 };

function rand01(n: number, seed: number): Float32Array {
  return uniformData(n, seed).map((v) => 0.5 + 0.5 * v);
}

describe('gatherBatch', () => {
  it('gathers rows of any rank, and a shorter perm', async () => {
    const e = await testEngine();
    const x = uniformData(5 * 3 * 7, 1);
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
    const x = uniformData(N * 6, 2);
    const perm = [2, 0, 2, 2]; // row 2 is taken three times, rows 1 and 3 never
    const g = uniformData(N * 6, 3);
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
    await gradcheck(
      e,
      [{ data: uniformData(3 * 4, 4), shape: [3, 4] }],
      ([x]) => ops.gatherBatch(x!, p),
      ([x]) => ref.gatherBatchRef(x!, perm, 3),
    );
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
      const x = uniformData(N * C * S, 5);
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
        { data: uniformData(N * C * H * W, 7), shape: [N, C, H, W] },
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
    const x = uniformData(N * C * H * W, 9);
    const g = uniformData(N * C * H * W, 10);
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
    const x = uniformData(3 * 2 * 5, 12);
    const y = ops.mixup(e.tensor(x, [3, 2, 5]), p, 0.3);
    expectAllClose(await y.read(), ref.mixupRef(x, perm, 0.3, 3), FWD);
    await gradcheck(
      e,
      [{ data: x, shape: [3, 2, 5] }],
      ([t]) => ops.mixup(t!, p, 0.3),
      ([t]) => ref.mixupRef(t!, perm, 0.3, 3),
    );
  });

  it('boxMix pastes the partner inside the box; gradchecks', async () => {
    const e = await testEngine();
    const [N, C, H, W] = [3, 2, 5, 7];
    const perm = [2, 0, 2];
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const x = uniformData(N * C * H * W, 13);
    for (const box of [
      { y0: 1, x0: 2, y1: 4, x1: 7 },
      { y0: 0, x0: 0, y1: 0, x1: 0 },
      { y0: 0, x0: 0, y1: 5, x1: 7 },
    ]) {
      const y = ops.boxMix(e.tensor(x, [N, C, H, W]), p, box);
      expectAllClose(await y.read(), ref.boxMixRef(x, perm, { N, C, S: H * W, W }, box), FWD);
    }
    const box = { y0: 1, x0: 2, y1: 4, x1: 6 };
    await gradcheck(
      e,
      [{ data: x, shape: [N, C, H, W] }],
      ([t]) => ops.boxMix(t!, p, box),
      ([t]) => ref.boxMixRef(t!, perm, { N, C, S: H * W, W }, box),
    );
  });

  it('maskMix matches and gradchecks w.r.t. x and the shared mask', async () => {
    const e = await testEngine();
    const [N, C, H, W] = [2, 3, 3, 5];
    const perm = [1, 1];
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const x = uniformData(N * C * H * W, 14);
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

/** Output and ∂L/∂x (for upstream G) of f(x), read back. */
async function fwdBwd(e: Engine, x: Float32Array, shape: number[], g: Float32Array, f: (x: Tensor) => Tensor): Promise<[Float32Array, Float32Array]> {
  const xt = e.tensor(x, shape, { requiresGrad: true });
  const y = f(xt);
  const out = await y.read();
  y.backward(e.tensor(g, shape));
  const dx = await xt.grad!.read();
  y.dispose();
  xt.dispose();
  return [out, dx];
}

/** Bit patterns, so that −0 ≠ +0 and NaNs compare. */
function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Records the kernel, params and constants of every `engine.run` while `fn` runs. */
async function spyRuns(e: Engine, fn: () => Promise<void>): Promise<{ entry: string; params: unknown; constants: unknown }[]> {
  const calls: { entry: string; params: unknown; constants: unknown }[] = [];
  const orig = e.run;
  e.run = function (this: Engine, family, entry, spec) {
    if (family === 'blend') calls.push({ entry, params: structuredClone(spec.params), constants: structuredClone(spec.constants) });
    return orig.call(this, family, entry, spec);
  };
  try {
    await fn();
  } finally {
    e.run = orig;
  }
  return calls;
}

describe('mixup and boxMix with λ / the box in a tensor', () => {
  // Awkward: odd sizes, repeated partners (3 twice, 2 never), and a row mixed with itself.
  const [N, C, H, W] = [5, 3, 7, 6];
  const shape = [N, C, H, W];
  const perm = [3, 0, 3, 4, 1];
  const x = uniformData(N * C * H * W, 21);
  const g = uniformData(N * C * H * W, 22);

  it('mixup: tensor λ is bit-for-bit the number form, forward and backward (own and partner terms)', async () => {
    const e = await testEngine();
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    // 0 and 1 isolate the partner and the own term of the gradient.
    for (const lam of [0.3, 0.7281, 1 / 3, 0, 1]) {
      const want = await fwdBwd(e, x, shape, g, (t) => ops.mixup(t, p, lam));
      for (const lamShape of [[1], []]) {
        const lt = e.tensor([lam], lamShape);
        const got = await fwdBwd(e, x, shape, g, (t) => ops.mixup(t, p, lt));
        expect(bits(got[0])).toEqual(bits(want[0]));
        expect(bits(got[1])).toEqual(bits(want[1]));
        lt.dispose();
      }
      expectAllClose(want[0], ref.mixupRef(x, perm, Math.fround(lam), N), FWD);
    }
  });

  it('mixup: tensor λ matches the reference and gradchecks', async () => {
    const e = await testEngine();
    const lam = 0.3;
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const lt = e.tensor([lam], [1]);
    const lf = Math.fround(lam);
    const d = { N, C: 1, S: C * H * W };
    const [out, dx] = await fwdBwd(e, x, shape, g, (t) => ops.mixup(t, p, lt));
    expectAllClose(out, ref.mixupRef(x, perm, lf, N), FWD);
    expectAllClose(
      dx,
      ref.blendBackwardX(g, perm, d, () => [lf, 1 - lf]),
      BWD,
    );
    await gradcheck(
      e,
      [{ data: x, shape }],
      ([t]) => ops.mixup(t!, p, lt),
      ([t]) => ref.mixupRef(t!, perm, lf, N),
    );
    expect(lt.grad).toBeNull();
  });

  it('boxMix: tensor box is bit-for-bit the Box form (inner, empty, full, edge boxes), forward and backward', async () => {
    const e = await testEngine();
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const boxes = [
      { y0: 1, x0: 2, y1: 5, x1: 6 },
      { y0: 0, x0: 0, y1: 0, x1: 0 },
      { y0: 3, x0: 4, y1: 3, x1: 6 },
      { y0: 0, x0: 0, y1: H, x1: W },
      { y0: 6, x0: 5, y1: 7, x1: 6 },
    ];
    for (const box of boxes) {
      const want = await fwdBwd(e, x, shape, g, (t) => ops.boxMix(t, p, box));
      const bt = e.tensor([box.y0, box.x0, box.y1, box.x1], [4], { dtype: 'i32' });
      const got = await fwdBwd(e, x, shape, g, (t) => ops.boxMix(t, p, bt));
      expect(bits(got[0])).toEqual(bits(want[0]));
      expect(bits(got[1])).toEqual(bits(want[1]));
      bt.dispose();
      const d = { N, C, S: H * W, W };
      expectAllClose(want[0], ref.boxMixRef(x, perm, d, box), FWD);
      expectAllClose(want[1], ref.blendBackwardX(g, perm, d, ref.boxCoefs(W, box)), BWD);
    }
  });

  it('boxMix: tensor box gradchecks', async () => {
    const e = await testEngine();
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const box = { y0: 2, x0: 1, y1: 6, x1: 4 };
    const bt = e.tensor([box.y0, box.x0, box.y1, box.x1], [4], { dtype: 'i32' });
    await gradcheck(
      e,
      [{ data: x, shape }],
      ([t]) => ops.boxMix(t!, p, bt),
      ([t]) => ref.boxMixRef(t!, perm, { N, C, S: H * W, W }, box),
    );
  });

  it('boxMix: the kernel clamps a box tensor into the image (out-of-range, inverted)', async () => {
    const e = await testEngine();
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const cases: [number[], { y0: number; x0: number; y1: number; x1: number } | null][] = [
      [[-3, -2, 100, 100], { y0: 0, x0: 0, y1: H, x1: W }],
      [[-5, 2, 4, 1_000_000], { y0: 0, x0: 2, y1: 4, x1: W }],
      [[2, 5, 9, -1], null], // x1 clamps to 0 < x0: empty
      [[5, 1, 2, 4], null], // y0 > y1: empty
      [[-2_147_483_648, -2_147_483_648, 2_147_483_647, 2_147_483_647], { y0: 0, x0: 0, y1: H, x1: W }],
    ];
    for (const [raw, clamped] of cases) {
      const want = await fwdBwd(e, x, shape, g, (t) => ops.boxMix(t, p, clamped ?? { y0: 0, x0: 0, y1: 0, x1: 0 }));
      const bt = e.tensor(raw, [4], { dtype: 'i32' });
      const got = await fwdBwd(e, x, shape, g, (t) => ops.boxMix(t, p, bt));
      expect(bits(got[0])).toEqual(bits(want[0]));
      expect(bits(got[1])).toEqual(bits(want[1]));
      bt.dispose();
    }
  });

  it('the uniform params do not depend on the tensor λ / box (forward and backward)', async () => {
    const e = await testEngine();
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const run = (f: (t: Tensor) => Tensor) => spyRuns(e, async () => void (await fwdBwd(e, x, shape, g, f)));
    const la = e.tensor([0.25], [1]);
    const lb = e.tensor([0.8], [1]);
    const mA = await run((t) => ops.mixup(t, p, la));
    const mB = await run((t) => ops.mixup(t, p, lb));
    expect(mA.map((c) => c.entry)).toEqual(['blend_fwd', 'perm_csr', 'blend_bwd_x']);
    expect(mB).toEqual(mA);
    for (const c of mA.filter((c) => c.entry !== 'perm_csr')) {
      expect(c.params).toMatchObject({ lam: 0, box: [0, 0, 0, 0] });
      expect(c.constants).toMatchObject({ MODE: 1, FROM_TENSOR: 1 });
    }
    // The number form does put λ in the uniform (what replay cannot change).
    expect((await run((t) => ops.mixup(t, p, 0.25)))[0]!.params).toMatchObject({ lam: 0.25 });

    const ba = e.tensor([1, 2, 5, 6], [4], { dtype: 'i32' });
    const bb = e.tensor([0, 0, 7, 3], [4], { dtype: 'i32' });
    const bA = await run((t) => ops.boxMix(t, p, ba));
    const bB = await run((t) => ops.boxMix(t, p, bb));
    expect(bA.map((c) => c.entry)).toEqual(['blend_fwd', 'perm_csr', 'blend_bwd_x']);
    expect(bB).toEqual(bA);
    for (const c of bA.filter((c) => c.entry !== 'perm_csr')) {
      expect(c.params).toMatchObject({ lam: 0, box: [0, 0, 0, 0] });
      expect(c.constants).toMatchObject({ MODE: 2, FROM_TENSOR: 1 });
    }
    expect((await run((t) => ops.boxMix(t, p, { y0: 1, x0: 2, y1: 5, x1: 6 })))[0]!.params).toMatchObject({ box: [1, 2, 5, 6] });
  });

  it('the backward reads the λ / box tensor kept by the graph, even after the caller disposed it', async () => {
    const e = await testEngine();
    const p = e.tensor(perm, [N], { dtype: 'i32' });
    const want = await fwdBwd(e, x, shape, g, (t) => ops.mixup(t, p, 0.3));
    const wantBox = await fwdBwd(e, x, shape, g, (t) => ops.boxMix(t, p, { y0: 1, x0: 2, y1: 5, x1: 6 }));
    for (const [make, w] of [
      [() => e.tensor([0.3], [1]), want],
      [() => e.tensor([1, 2, 5, 6], [4], { dtype: 'i32' }), wantBox],
    ] as const) {
      const st = make();
      const xt = e.tensor(x, shape, { requiresGrad: true });
      const y = st.dtype === 'f32' ? ops.mixup(xt, p, st) : ops.boxMix(xt, p, st);
      st.dispose();
      y.backward(e.tensor(g, shape));
      expect(bits(await xt.grad!.read())).toEqual(bits(w[1]));
    }
  });

  it('checks the tensor forms: dtype and element count (ShapeError naming the op and shape)', async () => {
    const e = await testEngine();
    const xt = e.tensor(uniformData(2 * 3 * 4 * 4, 1), [2, 3, 4, 4]);
    const p2 = e.tensor([1, 0], [2], { dtype: 'i32' });
    expect(() => ops.mixup(xt, p2, e.tensor([0.5, 0.5], [2]))).toThrow(/mixup: λ tensor must be f32 \[1\]/);
    expect(() => ops.mixup(xt, p2, e.tensor([0], [1], { dtype: 'i32' }))).toThrow(ShapeError);
    expect(() => ops.boxMix(xt, p2, e.tensor([0, 0, 1, 1], [4]))).toThrow(/boxMix: box tensor must be i32 \[4\]/);
    expect(() => ops.boxMix(xt, p2, e.tensor([0, 0, 1], [3], { dtype: 'i32' }))).toThrow(ShapeError);
    expect(() => ops.boxMix(xt, p2, e.tensor([0, 0, 1, 1, 2], [5], { dtype: 'i32' }))).toThrow(ShapeError);
    // The other checks still apply with a tensor.
    expect(() => ops.mixup(xt, e.tensor([1, 0, 2], [3], { dtype: 'i32' }), e.tensor([0.5], [1]))).toThrow(ShapeError);
  });
});

describe('mixing ops: bad shapes', () => {
  it('throw ShapeError', async () => {
    const e = await testEngine();
    const x = e.tensor(uniformData(2 * 3 * 4 * 4, 1), [2, 3, 4, 4]);
    const p2 = e.tensor([1, 0], [2], { dtype: 'i32' });
    const p3 = e.tensor([1, 0, 2], [3], { dtype: 'i32' });
    const pf = e.tensor([1, 0], [2]);
    expect(() => ops.gatherBatch(x, pf)).toThrow(ShapeError);
    expect(() => ops.mixup(x, p3, 0.5)).toThrow(ShapeError);
    expect(() => ops.maskedBlend(x, e.tensor(uniformData(40, 1), [2, 1, 4, 5]), p2)).toThrow(ShapeError);
    expect(() => ops.maskedBlend(x, e.tensor(uniformData(32, 1), [2, 16]), p2)).toThrow(ShapeError);
    expect(() => ops.boxMix(x, p2, { y0: 0, x0: 0, y1: 5, x1: 2 })).toThrow(ShapeError);
    expect(() => ops.boxMix(x, p2, { y0: 2, x0: 0, y1: 1, x1: 2 })).toThrow(ShapeError);
    expect(() => ops.maskMix(x, e.tensor(uniformData(16, 1), [4, 4]), p3)).toThrow(ShapeError);
    expect(() => ops.maskMix(x, e.tensor(uniformData(12, 1), [3, 4]), p2)).toThrow(ShapeError);
    expect(() => ops.boxMix(e.tensor(uniformData(6, 1), [2, 3]), p2, { y0: 0, x0: 0, y1: 1, x1: 1 })).toThrow(ShapeError);
  });
});

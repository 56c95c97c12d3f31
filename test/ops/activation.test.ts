// GELU (erf form) and sigmoid against the f64 reference. Tolerances: forward
// and backward atol 1e-6 / rtol 1e-5 (the erf approximation is < 1.5e-7 off);
// gradcheck atol 1e-4 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { erfRef, geluBackwardRef, geluRef, sigmoidBackwardRef, sigmoidRef } from '../../src/reference/activation.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const tol = { atol: 1e-6, rtol: 1e-5 };

describe('erf reference', () => {
  it('matches known values', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3.5, 0.9999992569016276],
      [4.5, 0.9999999998033839],
    ];
    for (const [x, v] of known) {
      expect(Math.abs(erfRef(x) - v)).toBeLessThan(1e-12);
      expect(Math.abs(erfRef(-x) + v)).toBeLessThan(1e-12);
    }
  });
});

describe('gelu / sigmoid', () => {
  // A dense sweep of [-10, 10] (covers both erf branches and the tails) plus odd sizes.
  const sweep = Float32Array.from({ length: 20001 }, (_, i) => -10 + i * 0.001);
  const inputs: [string, Float32Array][] = [
    ['one element', Float32Array.of(0.3)],
    ['7 elements', uniformData(7, 1)],
    ['sweep [-10, 10] step 1e-3 (20001)', sweep],
    ['large values', Float32Array.of(-80, -30, -9, 9, 30, 80, 1e-8, -1e-8, 0)],
  ];
  for (const [name, x] of inputs) {
    it(`${name}: forward and backward vs reference`, async () => {
      const e = await testEngine();
      const dy = uniformData(x.length, 5);
      await e.asyncScope(async () => {
        const tx = e.tensor(x, [x.length], { requiresGrad: true });
        const yg = ops.gelu(tx);
        expectAllClose(await yg.read(), geluRef(x), tol);
        yg.backward(e.tensor(dy, [x.length]));
        expectAllClose(await tx.grad!.read(), geluBackwardRef(x, dy), tol);
        tx.grad!.dispose();
        tx.grad = null;
        const ys = ops.sigmoid(tx);
        expectAllClose(await ys.read(), sigmoidRef(x), tol);
        ys.backward(e.tensor(dy, [x.length]));
        expectAllClose(await tx.grad!.read(), sigmoidBackwardRef(x, dy), tol);
        tx.grad!.dispose();
      });
    });
  }

  it('gradcheck on a [3, 5] input', async () => {
    const e = await testEngine();
    const x = uniformData(15, 9).map((v) => 3 * v);
    await gradcheck(
      e,
      [{ data: x, shape: [3, 5] }],
      ([t]) => ops.gelu(t!),
      ([r]) => geluRef(r!),
      { atol: 1e-4, rtol: 1e-3 },
    );
    await gradcheck(
      e,
      [{ data: x, shape: [3, 5] }],
      ([t]) => ops.sigmoid(t!),
      ([r]) => sigmoidRef(r!),
      { atol: 1e-4, rtol: 1e-3 },
    );
  });
});

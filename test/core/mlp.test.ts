// A two-layer MLP: every parameter gradient against finite differences of a
// plain f64 reference of the same network.
import { expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

function linearRef(x: Float64Array, w: Float64Array, b: Float64Array, n: number, k: number, m: number, relu: boolean): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = b[j]!;
      for (let t = 0; t < k; t++) s += x[i * k + t]! * w[t * m + j]!;
      y[i * m + j] = relu ? Math.max(0, s) : s;
    }
  return y;
}

it('MLP parameter gradients match finite differences', async () => {
  const e = await testEngine();
  const [N, D, H, O] = [5, 7, 9, 3];
  const inputs = [
    { data: uniformData(N * D, 1), shape: [N, D], grad: false },
    { data: uniformData(D * H, 2), shape: [D, H] },
    { data: uniformData(H, 3), shape: [H] },
    { data: uniformData(H * O, 4), shape: [H, O] },
    { data: uniformData(O, 5), shape: [O] },
  ];
  await gradcheck(
    e,
    inputs,
    ([x, w1, b1, w2, b2]) => {
      const h = ops.matmul(x!, w1!, { bias: b1!, activation: 'relu' });
      const y = ops.matmul(h, w2!, { bias: b2! });
      return ops.mean(ops.mul(y, y));
    },
    ([x, w1, b1, w2, b2]) => {
      const h = linearRef(x!, w1!, b1!, N, D, H, true);
      const y = linearRef(h, w2!, b2!, N, H, O, false);
      let s = 0;
      for (const v of y) s += v * v;
      return [s / y.length];
    },
    { atol: 1e-4, rtol: 2e-3 },
  );
  expect(true).toBe(true);
});

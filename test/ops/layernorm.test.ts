// LayerNorm over the last axis against the f64 reference. Tolerances: forward
// atol 1e-5 / rtol 1e-4; dx atol 5e-5 / rtol 1e-4; dweight/dbias (sums over
// rows) atol 1e-5·√R / rtol 1e-4; gradcheck atol 1e-3 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { layerNormBackwardRef, layerNormRef } from '../../src/reference/layernorm.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('layerNorm', () => {
  const cases: [number[], boolean][] = [
    [[1, 1], true],
    [[3, 7], true],
    [[2, 5, 33], false],
    [[65, 257], true], // rows over the 64-row gradient chunk, D not a multiple of the workgroup
    [[4, 1500], true],
    [[300, 64], true],
  ];
  for (const [shape, affine] of cases) {
    it(`${JSON.stringify(shape)}${affine ? '' : ' (no affine)'}: forward and backward vs reference`, async () => {
      const e = await testEngine();
      const D = shape.at(-1)!;
      const R = prod(shape) / D;
      const x = uniformData(prod(shape), 1).map((v) => 3 * v + 2);
      const dy = uniformData(prod(shape), 2);
      const w = affine ? uniformData(D, 3).map((v) => 1 + 0.5 * v) : null;
      const b = affine ? uniformData(D, 4) : null;
      await e.asyncScope(async () => {
        const tx = e.tensor(x, shape, { requiresGrad: true });
        const tw = w ? e.tensor(w, [D], { requiresGrad: true }) : null;
        const tb = b ? e.tensor(b, [D], { requiresGrad: true }) : null;
        const y = ops.layerNorm(tx, tw, tb);
        expect(y.shape).toEqual(shape);
        expectAllClose(await y.read(), layerNormRef(x, D, w, b).y);
        y.backward(e.tensor(dy, shape));
        const g = layerNormBackwardRef(x, D, w, dy);
        expectAllClose(await tx.grad!.read(), g.dx, { atol: 5e-5, rtol: 1e-4 });
        const sumTol = { atol: 1e-5 * Math.sqrt(R), rtol: 1e-4 };
        if (tw) expectAllClose(await tw.grad!.read(), g.dweight, sumTol);
        if (tb) expectAllClose(await tb.grad!.read(), g.dbias, sumTol);
        for (const t of [tx, tw, tb]) t?.grad?.dispose();
      });
    });
  }

  it('gradcheck w.r.t. x, weight, bias; and x only', async () => {
    const e = await testEngine();
    const shape = [3, 2, 5];
    const D = 5;
    const x = uniformData(30, 7).map((v) => 2 * v);
    const w = uniformData(D, 8).map((v) => 1 + 0.5 * v);
    const b = uniformData(D, 9);
    await gradcheck(
      e,
      [
        { data: x, shape },
        { data: w, shape: [D] },
        { data: b, shape: [D] },
      ],
      ([tx, tw, tb]) => ops.layerNorm(tx!, tw!, tb!),
      ([rx, rw, rb]) => layerNormRef(rx!, D, rw!, rb!).y,
      { atol: 1e-3, rtol: 1e-3 },
    );
    await gradcheck(
      e,
      [
        { data: x, shape },
        { data: w, shape: [D], grad: false },
        { data: b, shape: [D], grad: false },
      ],
      ([tx, tw, tb]) => ops.layerNorm(tx!, tw!, tb!, 1e-3),
      ([rx]) => layerNormRef(rx!, D, w, b, 1e-3).y,
      { atol: 1e-3, rtol: 1e-3 },
    );
  });

  it('rejects a weight of the wrong size', async () => {
    const e = await testEngine();
    e.scope(() => {
      const x = e.tensor(uniformData(12), [3, 4]);
      const w = e.tensor(uniformData(3), [3]);
      expect(() => ops.layerNorm(x, w, null)).toThrow(/layerNorm: weight must have shape \[4\] for input \[3, 4\], got \[3\]/);
    });
  });
});

// LayerNorm over the last axis against the f64 reference. Tolerances: forward
// atol 1e-5 / rtol 1e-4; dx atol 5e-5 / rtol 1e-4; dweight/dbias (sums over
// rows) atol 1e-5·√R / rtol 1e-4; gradcheck atol 1e-3 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { layerNormBackwardRef, layerNormRef } from '../../src/reference/layernorm.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { expectInPlaceGradsMatch } from '../helpers/grad-in-place.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('layerNorm', () => {
  const cases: [number[], boolean][] = [
    [[1, 1], true],
    [[3, 7], true],
    [[2, 5, 33], false],
    [[65, 257], true], // rows over the 64-row gradient chunk, D not a multiple of the workgroup
    [[4, 1500], true],
    [[300, 64], true],
    // 2·D / 64 > 65 535 parameter-gradient workgroups: the engine folds that grid into (x, y)
    [[2, 2_100_000], true],
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
        // A row's mean and variance are f32 sums of D terms: the error grows as √D (it matters only for the widest case).
        const wide = Math.max(1, Math.sqrt(D) / 100);
        expectAllClose(await y.read(), layerNormRef(x, D, w, b).y, { atol: 1e-5 * wide, rtol: 1e-4 });
        y.backward(e.tensor(dy, shape));
        const g = layerNormBackwardRef(x, D, w, dy);
        expectAllClose(await tx.grad!.read(), g.dx, { atol: 5e-5 * wide, rtol: 1e-4 });
        const sumTol = { atol: 1e-5 * Math.sqrt(R), rtol: 1e-4 };
        if (tw) expectAllClose(await tw.grad!.read(), g.dweight, sumTol);
        if (tb) expectAllClose(await tb.grad!.read(), g.dbias, sumTol);
        for (const t of [tx, tw, tb]) t?.grad?.dispose();
      });
    });
  }

  // γ/β added in place by ln_param_final (src/autograd/leaf-grad.ts): bit for bit the sums
  // then acc_add, over two backwards into an existing .grad or none, one LayerNorm's
  // parameters used twice, and one tensor as both weight and bias (written, not in place).
  it('weight and bias gradients added in place equal the sums + acc_add bit for bit', async () => {
    const e = await testEngine();
    for (const shape of [
      [1, 1],
      [3, 7],
      [65, 257],
      [300, 64],
      [0, 5],
    ]) {
      const D = shape.at(-1)!;
      const what = JSON.stringify(shape);
      for (const grad of [true, false]) {
        const r = await expectInPlaceGradsMatch(
          e,
          [
            { shape, grad: true },
            { shape: [D], grad },
            { shape: [D], grad },
          ],
          ([x, w, b]) => ops.layerNorm(x!, w!, b!),
          `${what} .grad ${grad ? 'existing' : 'none'}`,
        );
        // x (which always has a .grad here) loses its acc_add (one or two dispatches: vec4 body
        // and tail) — ln_bwd_input adds into it — and γ/β lose theirs once they have a .grad;
        // nothing else changes.
        if (shape[0]! > 0) {
          const saved = r.old.accAdds.map((n, i) => n - r.inPlace.accAdds[i]!);
          expect(saved[0]! >= (grad ? 3 : 1) && saved[0]! <= (grad ? 6 : 2) && saved[1]! >= 3, `acc_add saved ${saved}`).toBe(true);
          expect(r.old.backward.map((n, i) => n - r.old.accAdds[i]!)).toEqual(r.inPlace.backward.map((n, i) => n - r.inPlace.accAdds[i]!));
        }
      }
      // Used twice (x frozen), and a weight that is also the bias.
      await expectInPlaceGradsMatch(
        e,
        [
          { shape, grad: false, frozen: true },
          { shape, grad: false, frozen: true },
          { shape: [D], grad: true },
          { shape: [D], grad: true },
        ],
        ([x, x2, w, b]) => ops.add(ops.layerNorm(x!, w!, b!), ops.layerNorm(x2!, w!, b!)),
        `${what} used twice`,
      );
      await expectInPlaceGradsMatch(
        e,
        [
          { shape, grad: true },
          { shape: [D], grad: true },
        ],
        ([x, w]) => ops.layerNorm(x!, w!, w!),
        `${what} weight = bias`,
      );
    }
  });

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

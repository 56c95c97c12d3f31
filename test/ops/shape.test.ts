// Layout ops: permute against the f64 reference (a copy, so exact), its
// backward (the inverse permutation) against a finite-difference check, and
// reshape as a view whose gradient takes the input's shape.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { ShapeError } from '../../src/device/errors.js';
import { permuteRef } from '../../src/reference/shape.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('permute', () => {
  const cases: [number[], number[]][] = [
    [[5], [0]],
    [
      [3, 7],
      [1, 0],
    ],
    [
      [1, 1, 1],
      [2, 0, 1],
    ],
    [
      [2, 3, 5, 7],
      [0, 2, 1, 3],
    ], // the ViT's [B, L, H, dh] → [B, H, L, dh]; dh not a multiple of 4: one element per thread
    [
      [2, 3, 5, 8],
      [0, 2, 1, 3],
    ], // dh a multiple of 4: the vec4 kernel (permute_v4), forward and backward
    [
      [3, 1, 4],
      [1, 0, 2],
    ],
    [
      [5, 12],
      [0, 1],
    ],
    [
      [2, 3, 5, 7],
      [3, 2, 1, 0],
    ],
    [
      [4, 1, 9, 2, 3],
      [4, 0, 3, 1, 2],
    ],
    [
      [2, 1, 2, 1, 3, 1, 2, 2],
      [7, 6, 5, 4, 3, 2, 1, 0],
    ], // 8 dims, the kernel's limit
    [
      [33, 65],
      [1, 0],
    ],
  ];
  for (const [shape, axes] of cases) {
    it(`${JSON.stringify(shape)} by ${JSON.stringify(axes)}: exact copy, gradient is the inverse permutation`, async () => {
      const e = await testEngine();
      const x = uniformData(prod(shape), 1);
      const outShape = axes.map((a) => shape[a]!);
      const g = uniformData(prod(shape), 2);
      await e.asyncScope(async () => {
        const tx = e.tensor(x, shape, { requiresGrad: true });
        const y = ops.permute(tx, axes);
        expect(y.shape).toEqual(outShape);
        expect(Array.from(await y.read())).toEqual(Array.from(permuteRef(x, shape, axes), Math.fround));
        y.backward(e.tensor(g, outShape));
        // Scattering g back through the permutation = permuting g by the inverse axes.
        const inv = new Array<number>(axes.length);
        axes.forEach((a, i) => (inv[a] = i));
        expect(Array.from(await tx.grad!.read())).toEqual(Array.from(permuteRef(g, outShape, inv), Math.fround));
        tx.grad!.dispose();
      });
    });
  }

  it('gradcheck', async () => {
    const e = await testEngine();
    const shape = [2, 3, 4];
    await gradcheck(
      e,
      [{ data: uniformData(24, 3), shape }],
      ([t]) => ops.permute(t!, [2, 0, 1]),
      ([r]) => permuteRef(r!, shape, [2, 0, 1]),
    );
  });

  it('rejects axes that are not a permutation, naming them', async () => {
    const e = await testEngine();
    const t = e.tensor(uniformData(6, 4), [2, 3]);
    expect(() => ops.permute(t, [0, 0])).toThrow(ShapeError);
    expect(() => ops.permute(t, [1])).toThrow(/axes \[1\] are not a permutation of the 2 dims/);
    t.dispose();
  });
});

describe('reshape', () => {
  it('is a view of the same values; its gradient takes the input shape', async () => {
    const e = await testEngine();
    const x = uniformData(24, 5);
    await e.asyncScope(async () => {
      const tx = e.tensor(x, [2, 3, 4], { requiresGrad: true });
      const y = ops.reshape(tx, [6, 4]);
      expect(y.shape).toEqual([6, 4]);
      expectAllClose(await y.read(), x, { atol: 0, rtol: 0 });
      const g = uniformData(24, 6);
      y.backward(e.tensor(g, [6, 4]));
      expect(tx.grad!.shape).toEqual([2, 3, 4]);
      expectAllClose(await tx.grad!.read(), g, { atol: 0, rtol: 0 });
      tx.grad!.dispose();
    });
  });
});

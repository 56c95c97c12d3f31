// Upsampling against the f64 reference (PyTorch semantics; bilinear with
// align_corners=False). Tolerances: atol 1e-5 / rtol 1e-4; gradcheck
// atol 1e-4 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { upsampleBackwardRef, upsampleRef } from '../../src/reference/upsample.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('upsample', () => {
  it('bilinear matches values computed with PyTorch 2.x (F.interpolate, align_corners=False)', async () => {
    const e = await testEngine();
    await e.asyncScope(async () => {
      // x = [[1, 2], [3, 4]], scale 2 (hand-checked against PyTorch's formula)
      const y = ops.upsample(e.tensor([1, 2, 3, 4], [1, 1, 2, 2]), 2, 'bilinear');
      const want = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
      expectAllClose(await y.read(), want);
    });
  });

  const cases: [number[], number][] = [
    [[1, 1, 7, 5], 2],
    [[2, 3, 7, 5], 3],
    [[1, 2, 1, 1], 4],
    [[2, 1, 4, 9], 1],
    [[4, 16, 16, 16], 2],
  ];
  for (const mode of ['nearest', 'bilinear'] as const) {
    for (const [shape, f] of cases) {
      it(`${mode} ${JSON.stringify(shape)} ×${f}: forward and backward vs reference`, async () => {
        const e = await testEngine();
        const x = uniformData(prod(shape), 1);
        const [N, C, H, W] = shape as [number, number, number, number];
        const outShape = [N, C, H * f, W * f];
        const g = uniformData(prod(outShape), 2);
        await e.asyncScope(async () => {
          const tx = e.tensor(x, shape, { requiresGrad: true });
          const y = ops.upsample(tx, f, mode);
          expect(y.shape).toEqual(outShape);
          expectAllClose(await y.read(), upsampleRef(x, shape, f, mode));
          y.backward(e.tensor(g, outShape));
          expectAllClose(await tx.grad!.read(), upsampleBackwardRef(g, shape, f, mode));
          tx.grad!.dispose();
        });
      });
    }
    it(`${mode}: gradcheck`, async () => {
      const e = await testEngine();
      for (const [shape, f] of [
        [[1, 2, 3, 4], 2],
        [[2, 1, 3, 2], 3],
      ] as [number[], number][]) {
        await gradcheck(
          e,
          [{ data: uniformData(prod(shape), 3), shape }],
          ([t]) => ops.upsample(t!, f, mode),
          ([r]) => upsampleRef(r!, shape, f, mode),
          { atol: 1e-4, rtol: 1e-3 },
        );
      }
    });
  }

  it('rejects non-integer factors', async () => {
    const e = await testEngine();
    e.scope(() => {
      const x = e.tensor(uniformData(4), [1, 1, 2, 2]);
      expect(() => ops.upsample(x, 1.5, 'nearest')).toThrow(/upsample: factor must be a positive integer, got 1.5/);
    });
  });
});

// softmax / logSoftmax along the last axis vs the f64 reference.
// Tolerances: forward atol 1e-6 / rtol 1e-5 for softmax (values in [0, 1]),
// atol 1e-5 / rtol 1e-5 for log-softmax (|values| up to ~160 with ±80 logits);
// backward atol 1e-6 / rtol 1e-4; gradcheck atol 1e-4 / rtol 1e-3.
import { describe, expect, it } from 'vitest';
import { ops, ShapeError } from '../../src/index.js';
import { softmaxBackwardRef, softmaxRef } from '../../src/reference/softmax.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const scaled = (n: number, seed: number, s: number): Float32Array => uniformData(n, seed).map((v) => v * s);

// [rows, cols]; covers the thread-per-row (cols ≤ 64) and workgroup-per-row kernels.
const shapes: [number, number][] = [
  [5, 2],
  [7, 3],
  [1, 10],
  [3, 64],
  [2, 65],
  [4, 1000],
  [1, 8192],
  [3, 8192],
  [300, 17],
];

describe('softmax / logSoftmax forward and backward', async () => {
  const e = await testEngine();
  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    const fwdTol = log ? { atol: 1e-5, rtol: 1e-5 } : { atol: 1e-6, rtol: 1e-5 };
    for (const [rows, cols] of shapes) {
      it(`${name} [${rows}, ${cols}]`, async () => {
        await e.asyncScope(async () => {
          const xd = scaled(rows * cols, rows * 7 + cols, 4);
          const x = e.tensor(xd, [rows, cols]);
          const y = log ? ops.logSoftmax(x) : ops.softmax(x);
          const yref = softmaxRef(xd, cols, log);
          expectAllClose(await y.read(), yref, fwdTol);
          // backward from the GPU's own output, as the op does
          const gd = uniformData(rows * cols, 99);
          const { softmaxBackwardRaw } = await import('../../src/ops/softmax.js');
          const dx = softmaxBackwardRaw(y, e.tensor(gd, [rows, cols]), log);
          const dref = softmaxBackwardRef(await y.read(), gd, cols, log);
          expectAllClose(await dx.read(), dref, { atol: 1e-6, rtol: 1e-4 });
        });
      });
    }
    it(`${name} is stable for logits ±80 and a 3-D input`, async () => {
      await e.asyncScope(async () => {
        const big = Float32Array.from({ length: 2 * 3 * 100 }, (_, i) => (i % 2 ? 80 : -80) * uniformData(1, i + 1)[0]! + (i % 7 === 0 ? 80 : 0));
        for (const cols of [100]) {
          const x = e.tensor(big, [2, 3, cols]);
          const y = await (log ? ops.logSoftmax(x) : ops.softmax(x)).read();
          expect(y.every(Number.isFinite)).toBe(true);
          expectAllClose(y, softmaxRef(big, cols, log), log ? { atol: 2e-5, rtol: 1e-5 } : { atol: 1e-6, rtol: 1e-5 });
        }
        const x2 = e.tensor(Float32Array.of(80, -80, 80, 79.5, 0, -80), [3, 2]);
        const y2 = await (log ? ops.logSoftmax(x2) : ops.softmax(x2)).read();
        expectAllClose(y2, softmaxRef([80, -80, 80, 79.5, 0, -80], 2, log), { atol: 1e-5, rtol: 1e-5 });
      });
    });
  }

  it('rows of 1 element and empty rows', async () => {
    await e.asyncScope(async () => {
      const y = await ops.softmax(e.tensor([3, -2], [2, 1])).read();
      expectAllClose(y, [1, 1]);
      const ly = await ops.logSoftmax(e.tensor([3, -2], [2, 1])).read();
      expectAllClose(ly, [0, 0]);
      expect(() => ops.softmax(e.tensor([], [2, 0]))).toThrow(ShapeError);
      expect(() => ops.softmax(e.tensor([1], []))).toThrow(ShapeError);
      expect(() => ops.softmax(e.tensor([1, 2], [2], { dtype: 'i32' }))).toThrow(ShapeError);
    });
  });

  const gradShapes: [number, number][] = [
    [3, 2],
    [2, 5],
    [2, 70],
  ];
  for (const log of [false, true]) {
    for (const [rows, cols] of gradShapes) {
      it(`gradcheck ${log ? 'logSoftmax' : 'softmax'} [${rows}, ${cols}]`, async () => {
        await gradcheck(
          e,
          [{ data: scaled(rows * cols, 3 + cols, 2), shape: [rows, cols] }],
          ([x]) => (log ? ops.logSoftmax(x!) : ops.softmax(x!)),
          ([x]) => softmaxRef(x!, cols, log),
        );
      });
    }
  }
  it('gradcheck through a chain: softmax(logSoftmax(x)) [2, 6]', async () => {
    await gradcheck(
      e,
      [{ data: uniformData(12, 5), shape: [2, 6] }],
      ([x]) => ops.softmax(ops.logSoftmax(x!)),
      ([x]) => softmaxRef(softmaxRef(x!, 6, true), 6, false),
    );
  });
});

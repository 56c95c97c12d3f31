// GELU and sigmoid on vec4 (the *_v4 entries of activation.wgsl, plus a
// scalar tail) against the scalar entries run over every element: bit for
// bit, since both call the same WGSL function (NaNs compare equal: which
// NaN payload comes out is unspecified). Accuracy against the f64 reference
// is in activation.test.ts.
import { describe, it } from 'vitest';
import { ops, type Engine, type Tensor } from '../../src/index.js';
import { flat } from '../../src/ops/launch.js';
import { CPU_SHAPE, forceMemoryBoundShape, GPU_SHAPE, type MemoryBoundShape } from '../../src/ops/memory-bound.js';
import { geluBackwardRef, geluRef, sigmoidBackwardRef, sigmoidRef } from '../../src/reference/activation.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

/** activation.wgsl's scalar entry over all n elements. */
async function scalarAll(e: Engine, entry: string, a: Tensor, b: Tensor | null): Promise<Float32Array> {
  const out = e.empty(a.shape);
  e.run('activation', entry, { bind: b ? { a, b, out } : { a, out }, params: { n: a.size, base: 0 }, ...flat(e, a.size) });
  return out.read();
}

/** The adapter's own launch shape, the other kind's, and one with 3 strided vec4s per thread. */
const SHAPES: [string, MemoryBoundShape | null][] = [
  ['own', null],
  ['CPU', CPU_SHAPE],
  ['GPU', GPU_SHAPE],
  ['strided, 3 per thread', { ...GPU_SHAPE, wg: 64, perThread: 3 }],
];

describe('gelu / sigmoid on vec4', () => {
  for (const n of [1, 3, 4, 5, 1023, 4097, 20_001])
    for (const [shapeName, launchShape] of SHAPES) {
      it(`n = ${n}, ${shapeName} launch shape: forward and backward equal the scalar entries bit for bit, and the reference`, async () => {
        const e = await testEngine();
        forceMemoryBoundShape(e, launchShape);
        try {
          // Both erf branches (|x/√2| < 0.8 and beyond), the tails, and specials.
          const x = uniformData(n, n).map((v) => 6 * v);
          const specials = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40, -90, 90];
          for (let i = 0; i < n; i += 9) x[i] = specials[(i / 9) % specials.length]!;
          const dy = uniformData(n, n + 1);
          const finite = uniformData(n, n + 2).map((v) => 6 * v);
          await e.asyncScope(async () => {
            const tx = e.tensor(x, [n], { requiresGrad: true });
            const tdy = e.tensor(dy, [n]);
            const yg = ops.gelu(tx);
            expectSameBits(await yg.read(), await scalarAll(e, 'gelu_fwd', tx, null), 'gelu');
            yg.backward(tdy);
            expectSameBits(await tx.grad!.read(), await scalarAll(e, 'gelu_bwd', tx, tdy), 'gelu backward');
            tx.grad!.dispose();
            tx.grad = null;
            const ys = ops.sigmoid(tx);
            expectSameBits(await ys.read(), await scalarAll(e, 'sigmoid_fwd', tx, null), 'sigmoid');
            ys.backward(tdy);
            expectSameBits(await tx.grad!.read(), await scalarAll(e, 'sigmoid_bwd', ys, tdy), 'sigmoid backward');
            tx.grad!.dispose();

            // Tolerances as activation.test.ts: the erf approximation is < 1.5e-7 off.
            const tol = { atol: 1e-6, rtol: 1e-5 };
            const tf = e.tensor(finite, [n], { requiresGrad: true });
            const g = ops.gelu(tf);
            expectAllClose(await g.read(), geluRef(finite), tol);
            g.backward(tdy);
            expectAllClose(await tf.grad!.read(), geluBackwardRef(finite, dy), tol);
            tf.grad!.dispose();
            tf.grad = null;
            const s = ops.sigmoid(tf);
            expectAllClose(await s.read(), sigmoidRef(finite), tol);
            s.backward(tdy);
            expectAllClose(await tf.grad!.read(), sigmoidBackwardRef(finite, dy), tol);
            tf.grad!.dispose();
          });
        } finally {
          forceMemoryBoundShape(e, null);
        }
      });
    }
});

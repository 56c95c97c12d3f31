// Batch norm's per-channel sums — the statistics of the forward and the
// gradient sums of the backward — against the f64 reference in each of
// their forms: the vec4 entries (bn_stats_partial_v4, bn_grad_partial_v4,
// bn_forward_single_v4, bn_backward_single_v4; planes with H·W % 4 = 0) and
// the scalar ones, under the CPU and the GPU launch shapes (memory-bound.ts:
// 16 or 256 threads per workgroup, consecutive or strided vec4s), with
// several chunks per channel (whole images or the element walker, the last
// one ragged) and one. Tolerances as batchnorm.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { type Engine, ops } from '../../src/index.js';
import { CPU_SHAPE, forceMemoryBoundShape, GPU_SHAPE } from '../../src/ops/memory-bound.js';
import { batchNorm2dBackwardRef, batchNorm2dRef } from '../../src/reference/batchnorm.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

const CASES: { shape: number[]; sums: string[] }[] = [
  { shape: [32, 3, 28, 28], sums: ['bn_stats_partial_v4', 'bn_grad_partial_v4'] }, // whole images, 7 chunks (ragged)
  { shape: [40, 2, 14, 14], sums: ['bn_stats_partial_v4', 'bn_grad_partial_v4'] }, // walker, 2 chunks (ragged)
  { shape: [100, 4, 4, 4], sums: ['bn_forward_single_v4', 'bn_backward_single_v4'] }, // one chunk
  { shape: [1100, 2, 2, 2], sums: ['bn_stats_partial_v4', 'bn_grad_partial_v4'] }, // one vec4 per plane
  { shape: [90, 3, 7, 7], sums: ['bn_stats_partial', 'bn_grad_partial'] }, // H·W % 4 ≠ 0: scalar, 2 chunks
];

describe('batch norm sums (vec4 and scalar entries) vs the f64 reference', () => {
  let engine: Engine | null = null;
  afterEach(() => {
    if (engine) forceMemoryBoundShape(engine, null);
  });
  for (const { shape, sums } of CASES) {
    for (const [name, launch] of [
      ['CPU', CPU_SHAPE],
      ['GPU', GPU_SHAPE],
    ] as const) {
      it(`${JSON.stringify(shape)}, ${name} launch: y, running stats, dx, dweight, dbias (${sums.join(', ')})`, async () => {
        const e = await testEngine();
        engine = e;
        forceMemoryBoundShape(e, launch);
        const C = shape[1]!;
        const n = prod(shape);
        const x = uniformData(n, 21).map((v) => 2 * v + 3);
        const dy = uniformData(n, 22);
        const w = uniformData(C, 23).map((v) => 1 + 0.5 * v);
        const b = uniformData(C, 24);
        const rm = uniformData(C, 25).map((v) => 0.1 * v);
        const rv = uniformData(C, 26).map((v) => 0.5 + Math.abs(v));
        await e.asyncScope(async () => {
          const tx = e.tensor(x, shape, { requiresGrad: true });
          const tw = e.tensor(w, [C], { requiresGrad: true });
          const tb = e.tensor(b, [C], { requiresGrad: true });
          const trm = e.tensor(rm, [C]);
          const trv = e.tensor(rv, [C]);
          e.startProfiling();
          const y = ops.batchNorm2d(tx, tw, tb, trm, trv, { training: true });
          y.backward(e.tensor(dy, shape));
          const kernels = (await e.stopProfiling()).map((k) => k.kernel.replace('batchnorm:', ''));
          for (const s of sums) expect(kernels, s).toContain(s);
          const r = batchNorm2dRef(x, shape, w, b, rm, rv, { training: true });
          expectAllClose(await y.read(), r.y);
          expectAllClose(await trm.read(), r.runningMean, { atol: 1e-6, rtol: 1e-5 });
          expectAllClose(await trv.read(), r.runningVar, { atol: 1e-6, rtol: 1e-5 });
          const g = batchNorm2dBackwardRef(x, shape, w, dy, r.mean, r.invstd, true);
          expectAllClose(await tx.grad!.read(), g.dx, { atol: 5e-5, rtol: 1e-4 });
          const sumTol = { atol: 1e-5 * Math.sqrt(n / C), rtol: 1e-4 };
          expectAllClose(await tw.grad!.read(), g.dweight, sumTol);
          expectAllClose(await tb.grad!.read(), g.dbias, sumTol);
          for (const t of [tx, tw, tb]) t.grad!.dispose();
        });
      });
    }
  }
});

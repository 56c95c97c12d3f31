// The vec4 forms of the fused batch-norm passes (bn_apply_merge_v4,
// bn_grad_input_merge_v4) against the scalar entries, bit for bit: the same
// training step (forward with relu / residual, backward into x, weight, bias
// and the residual) with the vec4 forms allowed and forbidden, under each of
// several launch shapes (memory-bound.ts: threads, vec4s per thread, their
// order). The per-channel sums take their vec4 entries wherever H·W % 4 = 0,
// in both forms (batchnorm.ts `sumsLaunch`), so both sum in one order.
// Shapes with H·W % 4 = 0 (vec4 path) and ≠ 0 (scalar either way),
// whole-image chunks and the element walker, ragged last chunks, H·W = 4
// (one vec4 per plane), N = 1, C = 1. The sums' vec4 entries against the f64
// reference: batchnorm.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { type Engine, ops } from '../../src/index.js';
import { CPU_SHAPE, forceMemoryBoundShape, GPU_SHAPE, type MemoryBoundShape } from '../../src/ops/memory-bound.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { expectSameBits, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
  ds: Float32Array | null;
  rm: Float32Array;
  rv: Float32Array;
}

async function step(e: Engine, shape: number[], relu: boolean, residual: boolean, vec4: boolean): Promise<{ r: Result; kernels: string[] }> {
  setKernelForms(e, { vec4 });
  try {
    return await e.asyncScope(async () => {
      const C = shape[1]!;
      const n = prod(shape);
      const x = e.tensor(
        uniformData(n, 1).map((v) => 2 * v + 3),
        shape,
        { requiresGrad: true },
      );
      const w = e.tensor(
        uniformData(C, 2).map((v) => 1 + 0.5 * v),
        [C],
        { requiresGrad: true },
      );
      const b = e.tensor(uniformData(C, 3), [C], { requiresGrad: true });
      const rm = e.tensor(
        uniformData(C, 4).map((v) => 0.1 * v),
        [C],
      );
      const rv = e.tensor(
        uniformData(C, 5).map((v) => 0.5 + Math.abs(v)),
        [C],
      );
      const s = residual ? e.tensor(uniformData(n, 6), shape, { requiresGrad: true }) : null;
      const dy = e.tensor(uniformData(n, 7), shape);
      e.startProfiling();
      const y = ops.batchNorm2d(x, w, b, rm, rv, { training: true, relu, residual: s });
      ops.sum(ops.mul(y, dy)).backward();
      const kernels = (await e.stopProfiling()).map((k) => k.kernel);
      const r: Result = {
        y: await y.read(),
        dx: await x.grad!.read(),
        dw: await w.grad!.read(),
        db: await b.grad!.read(),
        ds: s ? await s.grad!.read() : null,
        rm: await rm.read(),
        rv: await rv.read(),
      };
      return { r, kernels };
    });
  } finally {
    setKernelForms(e, null);
  }
}

const SHAPES: number[][] = [
  [32, 3, 28, 28], // whole-image chunks (5 images), 7 chunks, the last ragged; HW4 = 196
  [40, 2, 14, 14], // element walker, HW4 = 49, 2 chunks, the second ragged
  [300, 3, 4, 4], // element walker, HW4 = 4
  [1100, 2, 2, 2], // HW = 4: one vec4 per plane
  [300, 1, 4, 4], // C = 1
  [1, 2, 64, 64], // N = 1: one chunk per channel (bn_forward_single / bn_backward_single)
  [300, 3, 3, 5], // HW % 4 ≠ 0: scalar either way
  [5, 2, 30, 41], // HW % 4 ≠ 0, whole-image chunks
];

const LAUNCH: [string, MemoryBoundShape | null][] = [
  ['adapter', null],
  ['CPU', CPU_SHAPE],
  ['GPU', GPU_SHAPE],
  ['64 threads × 3 consecutive', { ...CPU_SHAPE, normWg: 64, perThread: 3, contiguous: true }],
  ['32 threads × 3 strided', { ...GPU_SHAPE, normWg: 32, perThread: 3, contiguous: false }],
];

describe('batch norm vec4 passes: bit-identical to the scalar entries', () => {
  let engine: Engine | null = null;
  afterEach(() => {
    if (engine) forceMemoryBoundShape(engine, null);
  });
  for (const shape of SHAPES) {
    const vec4 = (shape[2]! * shape[3]!) % 4 === 0 && shape[0]! > 1;
    it(`${JSON.stringify(shape)}: relu × residual, ${LAUNCH.length} launch shapes${vec4 ? '' : ' (no vec4 path)'}`, async () => {
      const e = await testEngine();
      engine = e;
      for (const [relu, residual] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        for (const [name, launch] of LAUNCH) {
          forceMemoryBoundShape(e, launch);
          const want = await step(e, shape, relu, residual, false);
          const got = await step(e, shape, relu, residual, true);
          const what = `${JSON.stringify(shape)} relu=${relu} residual=${residual} ${name}`;
          expect(want.kernels.some((k) => k.includes('merge_v4'))).toBe(false);
          // The sums: vec4 entries in both forms where the planes allow.
          const sums4 = (HW4: boolean, ks: string[]) =>
            ks.some((k) => /bn_(stats_partial|grad_partial|forward_single|backward_single)_v4$/.test(k)) === HW4 &&
            !ks.some((k) => /bn_(stats_partial|grad_partial|forward_single|backward_single)$/.test(k)) === HW4;
          const hw4 = (shape[2]! * shape[3]!) % 4 === 0;
          expect(sums4(hw4, want.kernels), `${what}: sums (scalar passes)`).toBe(true);
          expect(sums4(hw4, got.kernels), `${what}: sums (vec4 passes)`).toBe(true);
          expect(
            got.kernels.some((k) => k.includes('bn_apply_merge_v4')),
            what,
          ).toBe(vec4);
          expect(
            got.kernels.some((k) => k.includes('bn_grad_input_merge_v4')),
            what,
          ).toBe(vec4);
          for (const key of ['y', 'dx', 'dw', 'db', 'ds', 'rm', 'rv'] as const) {
            const g = got.r[key];
            const wnt = want.r[key];
            if (g && wnt) expectSameBits(g, wnt, `${what}: ${key}`);
          }
        }
        forceMemoryBoundShape(e, null);
      }
    }, 120_000);
  }
});

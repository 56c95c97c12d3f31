// Sum reductions (reduce.wgsl) against the f64 reference, on every pattern of
// kept (K) and reduced (R) axes the host distinguishes, and their gradients.
//
// Tolerance: values are uniform in [-1, 1); an f32 sum of m such terms —
// per-thread running sums, then a tree — is off from the f64 sum by about
// √m·eps (random signs), and by at most (m/threads + log2 WG)·eps·Σ|x|.
// We allow atol 2e-6·√m + rtol 1e-5, about 20× the expected error.
import { describe, expect, it } from 'vitest';
import { counterDelta, ops } from '../../src/index.js';
import { CPU_SHAPE, forceMemoryBoundShape, GPU_SHAPE, type MemoryBoundShape } from '../../src/ops/memory-bound.js';
import { accumulateInto } from '../../src/ops/elementwise.js';
import { sumRowsRaw, sumToShapeInto } from '../../src/ops/reduce.js';
import { sumRef, sumToShapeRef } from '../../src/reference/reduce.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { countDispatches } from '../helpers/grad-in-place.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const tolFor = (terms: number) => ({ atol: 2e-6 * Math.sqrt(terms) + 1e-7, rtol: 1e-5 });

/**
 * Reduction shapes to run under: the adapter's own, both kinds' (so a CPU
 * adapter also checks the GPU workgroup size and split budget), and a tiny
 * one (8 threads, at most 4 workgroups) that splits nearly everything.
 */
const SHAPES: [string, MemoryBoundShape | null][] = [
  ['own', null],
  ['CPU', CPU_SHAPE],
  ['GPU', GPU_SHAPE],
  ['tiny', { ...CPU_SHAPE, reduceWg: 8, reduceMaxWorkgroups: 4 }],
];

describe('sum / mean over all elements', () => {
  it('awkward lengths, one and several passes, every reduction shape', async () => {
    const e = await testEngine();
    for (const n of [1, 3, 5, 1023, 1024, 4097, 65_537, 1_000_003, 4_194_304]) {
      const x = uniformData(n, n);
      for (const [shapeName, launchShape] of SHAPES) {
        forceMemoryBoundShape(e, launchShape);
        try {
          await e.asyncScope(async () => {
            const t = e.tensor(x, [n]);
            const s = ops.sum(t);
            expect(s.shape).toEqual([]);
            expectAllClose(await s.read(), [sumRef(x)], tolFor(n));
            expectAllClose(await ops.mean(t).read(), [sumRef(x) / n], tolFor(1));
          });
        } catch (err) {
          throw new Error(`n = ${n}, ${shapeName} reduction shape: ${(err as Error).message}`);
        } finally {
          forceMemoryBoundShape(e, null);
        }
      }
    }
  });

  it('a second pass only when one workgroup per output would have too much to do', async () => {
    const e = await testEngine();
    for (const [n, dispatches] of [
      [1024, 1],
      [1 << 22, 2],
    ] as const) {
      e.scope(() => {
        const t = e.tensor(new Float32Array(n), [n]);
        const c0 = e.counters();
        ops.sum(t);
        expect(counterDelta(c0, e.counters()).dispatches, `n=${n}`).toBe(dispatches);
      });
    }
  });

  it('multi-dimensional inputs and an empty one', async () => {
    const e = await testEngine();
    const x = uniformData(2 * 3 * 5 * 7, 3);
    await e.asyncScope(async () => {
      expectAllClose(await ops.sum(e.tensor(x, [2, 3, 5, 7])).read(), [sumRef(x)], tolFor(x.length));
      expect(Array.from(await ops.sum(e.tensor([], [0, 4])).read())).toEqual([0]);
    });
  });
});

describe('sumToShape', () => {
  // [input shape, target]: the pattern after dropping size-1 axes and merging
  // neighbours is in the name; each takes its own kernel or pass count.
  const cases: [string, number[], number[]][] = [
    ['R (full)', [7, 9], [1, 1]],
    ['K (copy)', [3, 4], [3, 4]],
    ['KR short rows, vec4', [37, 16], [37, 1]],
    ['KR short rows, odd', [37, 5], [37, 1]],
    ['KR long rows', [3, 1023], [3, 1]],
    ['KR long rows, vec4, split', [2, 65536], [2, 1]],
    ['RK columns, vec4', [100, 512], [512]],
    ['RK columns, odd, split', [1000, 10], [10]],
    ['RK one long column', [5000, 1], [1]],
    ['RKR per channel, vec4', [4, 6, 8, 8], [1, 6, 1, 1]],
    ['RKR per channel, odd', [3, 5, 7, 7], [5, 1, 1]],
    ['RKR per channel, split', [16, 3, 64, 64], [3, 1, 1]],
    ['KRK [N, L, D] → [N, 1, D]', [4, 64, 12], [4, 1, 12]],
    ['KRK odd', [3, 33, 5], [3, 1, 5]],
    ['KRKR general', [3, 4, 5, 2], [3, 1, 5, 1]],
    ['RKRK general', [3, 4, 5, 2], [1, 4, 1, 2]],
    ['fewer dims', [3, 4, 5, 2], [5, 2]],
  ];
  for (const [name, shape, target] of cases) {
    it(`${name}: ${JSON.stringify(shape)} → ${JSON.stringify(target)}, every reduction shape`, async () => {
      const e = await testEngine();
      const x = uniformData(prod(shape), prod(shape) + 1);
      const terms = prod(shape) / prod(target);
      const want = Float64Array.from(sumToShapeRef(x, shape, target), (v) => 0.5 * v);
      for (const [shapeName, launchShape] of SHAPES) {
        forceMemoryBoundShape(e, launchShape);
        try {
          await e.asyncScope(async () => {
            const r = ops.sumToShape(e.tensor(x, shape), target, 0.5);
            expect(r.shape).toEqual(target);
            expectAllClose(await r.read(), want, tolFor(terms));
          });
        } catch (err) {
          throw new Error(`${shapeName} reduction shape: ${(err as Error).message}`);
        } finally {
          forceMemoryBoundShape(e, null);
        }
      }
    });
  }

  // sumToShapeInto (a bias's or a shared operand's gradient into its .grad, src/autograd/leaf-grad.ts):
  // the last pass adds in place; the bits are sumToShape's then a separate acc_add, whichever
  // pass (one, or the second of a split) and kernel finishes the sums.
  it('sumToShapeInto: every pattern and reduction shape, bit for bit sumToShape + acc_add, without the acc_add', async () => {
    const e = await testEngine();
    for (const [name, shape, target] of [...cases, ['empty input', [0, 5], [5]] as [string, number[], number[]]]) {
      const x = uniformData(prod(shape), prod(shape) + 7);
      const start = uniformData(prod(target), 11);
      for (const [shapeName, launchShape] of SHAPES) {
        forceMemoryBoundShape(e, launchShape);
        try {
          await e.asyncScope(async () => {
            const tx = e.tensor(x, shape);
            const old = e.tensor(start, target);
            const was = countDispatches(e, () => accumulateInto(old, ops.sumToShape(tx, target)));
            const into = e.tensor(start, target);
            const now = countDispatches(e, () => sumToShapeInto(tx, target, into));
            expectSameBits(await into.read(), await old.read(), `${name} ${JSON.stringify(shape)} → ${JSON.stringify(target)}`);
            expect(was.accAdds).toBeGreaterThan(0);
            expect(now).toEqual({ dispatches: was.dispatches - was.accAdds, accAdds: 0 });
          });
        } catch (err) {
          throw new Error(`${name}, ${shapeName} reduction shape: ${(err as Error).message}`);
        } finally {
          forceMemoryBoundShape(e, null);
        }
      }
    }
  });

  it('sumRowsRaw: rows of every length class', async () => {
    const e = await testEngine();
    for (const [rows, cols] of [
      [1, 1],
      [16384, 16],
      [100, 10],
      [3, 4097],
      [5, 0],
    ]) {
      const x = uniformData(rows! * cols!, 17);
      const want = new Float64Array(rows!);
      for (let r = 0; r < rows!; r++) want[r] = cols ? sumRef(x.subarray(r * cols!, (r + 1) * cols!)) / cols! : 0;
      await e.asyncScope(async () => {
        expectAllClose(await sumRowsRaw(e.tensor(x, [rows!, cols!]), rows!, cols!, cols ? 1 / cols! : 1).read(), want, tolFor(1));
      });
    }
  });

  it('gradients match finite differences (the backward broadcasts back)', async () => {
    const e = await testEngine();
    for (const [shape, target] of [
      [
        [2, 3, 4],
        [1, 3, 1],
      ],
      [[5, 8], [8]],
      [
        [3, 4, 2],
        [3, 1, 2],
      ],
      [
        [6, 4],
        [6, 1],
      ],
    ] as [number[], number[]][]) {
      await gradcheck(
        e,
        [{ data: uniformData(prod(shape), 21), shape }],
        ([t]) => ops.sumToShape(t!, target, -2),
        ([t]) => Float64Array.from(sumToShapeRef(t!, shape, target), (v) => -2 * v),
      );
    }
    await gradcheck(
      e,
      [{ data: uniformData(30, 5), shape: [3, 10] }],
      ([t]) => ops.mean(t!),
      ([t]) => [sumRef(t!) / 30],
    );
  });
});

// Pooling against the f64 reference. Tolerances: atol 1e-5 / rtol 1e-4
// (max pooling is exact: atol 0 on values, indices equal); gradcheck
// atol 1e-4 / rtol 1e-3 (max-pool inputs are spaced apart so that finite
// differences never swap the maximum). The vec4 2×2 stride-2 entries are
// also compared bit for bit with the general entries they replace (same
// arithmetic, same order), under several launch shapes.
import { describe, expect, it } from 'vitest';
import { ops, type Engine, type Tensor } from '../../src/index.js';
import { CPU_SHAPE, forceMemoryBoundShape, GPU_SHAPE, type MemoryBoundShape } from '../../src/ops/memory-bound.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import {
  avgPool2dBackwardRef,
  avgPool2dRef,
  globalAvgPoolBackwardRef,
  globalAvgPoolRef,
  maxPool2dBackwardRef,
  maxPool2dRef,
} from '../../src/reference/pool.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Distinct values (a shuffled ramp) so maxima are unique and stable under ±1e-3. */
function distinct(n: number, seed: number): Float32Array {
  const r = uniformData(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => r[a]! - r[b]!);
  const out = new Float32Array(n);
  order.forEach((j, rank) => (out[j] = (rank - n / 2) * 0.01));
  return out;
}

describe('globalAvgPool', () => {
  for (const shape of [
    [1, 1, 7, 5],
    [2, 3, 4, 4],
    [3, 2, 9, 11],
    [2, 5, 1, 1],
    [4, 64, 32, 32],
  ]) {
    it(`${JSON.stringify(shape)}`, async () => {
      const e = await testEngine();
      const x = uniformData(prod(shape), 1);
      const g = uniformData(shape[0]! * shape[1]!, 2);
      await e.asyncScope(async () => {
        const tx = e.tensor(x, shape, { requiresGrad: true });
        const y = ops.globalAvgPool(tx);
        expect(y.shape).toEqual([shape[0], shape[1]]);
        expectAllClose(await y.read(), globalAvgPoolRef(x, shape));
        y.backward(e.tensor(g, y.shape));
        expectAllClose(await tx.grad!.read(), globalAvgPoolBackwardRef(g, shape));
        tx.grad!.dispose();
      });
    });
  }
  it('gradcheck', async () => {
    const e = await testEngine();
    await gradcheck(
      e,
      [{ data: uniformData(2 * 3 * 5 * 3, 3), shape: [2, 3, 5, 3] }],
      ([t]) => ops.globalAvgPool(t!),
      ([r]) => globalAvgPoolRef(r!, [2, 3, 5, 3]),
      { atol: 1e-4, rtol: 1e-3 },
    );
  });
});

describe('maxPool2d', () => {
  const cases: [number[], number, number, number][] = [
    [[1, 1, 7, 5], 2, 2, 0],
    [[2, 3, 7, 5], 3, 2, 1], // overlapping windows with padding
    [[1, 2, 8, 8], 3, 1, 1], // stride 1: each input in up to 9 windows
    [[2, 1, 9, 11], 2, 3, 0], // stride > kernel: some inputs in no window
    [[8, 16, 32, 32], 2, 2, 0],
  ];
  for (const [shape, k, s, pad] of cases) {
    it(`${JSON.stringify(shape)} k=${k} s=${s} pad=${pad}`, async () => {
      const e = await testEngine();
      const x = uniformData(prod(shape), 4);
      await e.asyncScope(async () => {
        const tx = e.tensor(x, shape, { requiresGrad: true });
        const y = ops.maxPool2d(tx, k, s, pad);
        const r = maxPool2dRef(x, shape, k, s, pad);
        expect(y.shape).toEqual(r.shape);
        expectAllClose(await y.read(), r.out, { atol: 0, rtol: 0 });
        const g = uniformData(prod(r.shape), 5);
        y.backward(e.tensor(g, y.shape));
        expectAllClose(await tx.grad!.read(), maxPool2dBackwardRef(g, r.idx, shape, r.shape), { atol: 1e-6, rtol: 1e-6 });
        tx.grad!.dispose();
      });
    });
  }
  it('ties go to the first maximum (as PyTorch)', async () => {
    const e = await testEngine();
    await e.asyncScope(async () => {
      const tx = e.tensor([1, 1, 1, 1], [1, 1, 2, 2], { requiresGrad: true });
      const y = ops.maxPool2d(tx, 2);
      y.backward(e.tensor([1], [1, 1, 1, 1]));
      expect(Array.from(await tx.grad!.read())).toEqual([1, 0, 0, 0]);
      tx.grad!.dispose();
    });
  });
  it('gradcheck (overlapping windows, padding)', async () => {
    const e = await testEngine();
    const shape = [2, 2, 5, 4];
    await gradcheck(
      e,
      [{ data: distinct(prod(shape), 6), shape }],
      ([t]) => ops.maxPool2d(t!, 3, 2, 1),
      ([r]) => maxPool2dRef(r!, shape, 3, 2, 1).out,
      { atol: 1e-4, rtol: 1e-3 },
    );
  });
  it('rejects too much padding', async () => {
    const e = await testEngine();
    e.scope(() => {
      const x = e.tensor(uniformData(16), [1, 1, 4, 4]);
      expect(() => ops.maxPool2d(x, 2, 2, 2)).toThrow(/maxPool2d: padding 2 must be at most half the kernel size 2/);
    });
  });
});

describe('avgPool2d', () => {
  const cases: [number[], number, number][] = [
    [[1, 1, 7, 5], 2, 2],
    [[2, 3, 7, 5], 3, 1],
    [[2, 2, 9, 8], 3, 2],
  ];
  for (const [shape, k, s] of cases) {
    it(`${JSON.stringify(shape)} k=${k} s=${s}`, async () => {
      const e = await testEngine();
      const x = uniformData(prod(shape), 7);
      await e.asyncScope(async () => {
        const tx = e.tensor(x, shape, { requiresGrad: true });
        const y = ops.avgPool2d(tx, k, s);
        const r = avgPool2dRef(x, shape, k, s);
        expect(y.shape).toEqual(r.shape);
        expectAllClose(await y.read(), r.out);
        const g = uniformData(prod(r.shape), 8);
        y.backward(e.tensor(g, y.shape));
        expectAllClose(await tx.grad!.read(), avgPool2dBackwardRef(g, shape, k, s));
        tx.grad!.dispose();
      });
    });
  }
  it('gradcheck', async () => {
    const e = await testEngine();
    const shape = [1, 2, 5, 6];
    await gradcheck(
      e,
      [{ data: uniformData(prod(shape), 9), shape }],
      ([t]) => ops.avgPool2d(t!, 3, 1),
      ([r]) => avgPool2dRef(r!, shape, 3, 1).out,
      { atol: 1e-4, rtol: 1e-3 },
    );
  });
});

/** Values with ±0, NaN, ±Inf and ties (repeated values) mixed in. */
function awkward(n: number, seed: number): Float32Array {
  const x = uniformData(n, seed);
  const special = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40, 0.5, 0.5];
  for (let i = 0; i < n; i += 5) x[i] = special[(i / 5) % special.length]!;
  for (let i = 3; i < n; i += 13) x[i] = x[i - 1]!; // a tie with its left neighbour
  return x;
}

/** The adapter's own launch shape, the other kind's, and odd ones (3 items per thread, small workgroups). */
const LAUNCH_SHAPES: [string, MemoryBoundShape | null][] = [
  ['own launch shape', null],
  ['CPU shape', CPU_SHAPE],
  ['GPU shape', GPU_SHAPE],
  ['strided, 3 per thread, WG 64', { ...GPU_SHAPE, wg: 64, perThread: 3 }],
  ['contiguous, 3 per thread, WG 32', { ...CPU_SHAPE, wg: 32, perThread: 3 }],
];

/** Shapes the 2×2 stride-2 vec4 entries take: W % 8 = 0; odd H, batch 1, one channel, item counts off the grid. */
const K2_SHAPES = [
  [1, 1, 2, 8],
  [1, 1, 3, 8],
  [1, 1, 7, 16],
  [2, 3, 5, 24],
  [3, 5, 9, 8],
  [2, 4, 17, 40],
  [8, 16, 32, 32],
];

interface PoolRun {
  out: Float32Array;
  idx: Int32Array | null;
  dx: Float32Array;
}

async function runPool(e: Engine, kind: 'max' | 'avg', x: Float32Array, g: Float32Array, shape: number[], fast: boolean): Promise<PoolRun> {
  setKernelForms(e, { vec4: fast });
  try {
    return await e.asyncScope(async () => {
      const tx = e.tensor(x, shape, { requiresGrad: true });
      const y: Tensor = kind === 'max' ? ops.maxPool2d(tx, 2) : ops.avgPool2d(tx, 2);
      const out = await y.read();
      const idx = kind === 'max' ? await y.node!.saved[0]!.readInt() : null;
      y.backward(e.tensor(g, y.shape));
      const dx = await tx.grad!.read();
      tx.grad!.dispose();
      return { out, idx, dx };
    });
  } finally {
    setKernelForms(e, null);
  }
}

describe('2×2 stride-2 pooling on vec4 (W % 8 = 0)', () => {
  for (const [shapeName, launchShape] of LAUNCH_SHAPES) {
    it(`${shapeName}: maxPool2d and avgPool2d, forward and backward, equal the general entries bit for bit`, async () => {
      const e = await testEngine();
      forceMemoryBoundShape(e, launchShape);
      try {
        for (const shape of K2_SHAPES) {
          const n = prod(shape);
          const x = awkward(n, n);
          const m = (n / shape[2]! / shape[3]!) * Math.floor(shape[2]! / 2) * (shape[3]! / 2);
          const g = awkward(m, m + 1);
          for (const kind of ['max', 'avg'] as const) {
            const what = `${kind} ${JSON.stringify(shape)}`;
            const fast = await runPool(e, kind, x, g, shape, true);
            const general = await runPool(e, kind, x, g, shape, false);
            expectSameBits(fast.out, general.out, `${what} forward`);
            if (kind === 'max') expect(Array.from(fast.idx!), `${what} argmax`).toEqual(Array.from(general.idx!));
            expectSameBits(fast.dx, general.dx, `${what} backward`);
          }
        }
      } finally {
        forceMemoryBoundShape(e, null);
      }
    });
  }
  for (const shape of [
    [1, 1, 3, 8],
    [2, 3, 5, 24],
  ]) {
    it(`${JSON.stringify(shape)} against the reference`, async () => {
      const e = await testEngine();
      const n = prod(shape);
      const x = distinct(n, 10);
      const r = maxPool2dRef(x, shape, 2, 2, 0);
      const a = avgPool2dRef(x, shape, 2, 2);
      const g = uniformData(prod(r.shape), 11);
      const max = await runPool(e, 'max', x, g, shape, true);
      expectAllClose(max.out, r.out, { atol: 0, rtol: 0 });
      expect(Array.from(max.idx!)).toEqual(Array.from(r.idx));
      expectAllClose(max.dx, maxPool2dBackwardRef(g, r.idx, shape, r.shape), { atol: 0, rtol: 0 });
      const avg = await runPool(e, 'avg', x, g, shape, true);
      expectAllClose(avg.out, a.out);
      expectAllClose(avg.dx, avgPool2dBackwardRef(g, shape, 2, 2));
    });
  }
  it('gradcheck (max and avg, odd H)', async () => {
    const e = await testEngine();
    const shape = [2, 1, 5, 8];
    await gradcheck(
      e,
      [{ data: distinct(prod(shape), 12), shape }],
      ([t]) => ops.maxPool2d(t!, 2),
      ([r]) => maxPool2dRef(r!, shape, 2, 2, 0).out,
      { atol: 1e-4, rtol: 1e-3 },
    );
    await gradcheck(
      e,
      [{ data: uniformData(prod(shape), 13), shape }],
      ([t]) => ops.avgPool2d(t!, 2),
      ([r]) => avgPool2dRef(r!, shape, 2, 2).out,
      { atol: 1e-4, rtol: 1e-3 },
    );
  });
});

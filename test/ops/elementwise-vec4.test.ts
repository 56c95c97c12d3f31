// The vec4 same-shape kernels (elementwise_vec4.wgsl + a scalar tail) and the
// rank-3 broadcast kernels (broadcast.wgsl) against the scalar kernels they
// replace — bit for bit, since the arithmetic is the same — and against the
// f64 reference (atol 1e-5, rtol 1e-4: one or two f32 roundings).
import { describe, expect, it } from 'vitest';
import { counterDelta, ops, type Engine, type Tensor } from '../../src/index.js';
import { accumulateInto, reluGrad } from '../../src/ops/elementwise.js';
import { collapseBroadcast } from '../../src/ops/broadcast.js';
import { CPU_SHAPE, forceMemoryBoundShape, GPU_SHAPE, type MemoryBoundShape } from '../../src/ops/memory-bound.js';
import { broadcastShapes, broadcastStrides, flat, vec8 } from '../../src/ops/launch.js';
import { addRef, mulRef, reluRef } from '../../src/reference/elementwise.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Values with the awkward cases mixed in: ±0, NaN, ±Inf, subnormals, exact zero sums with `partner`. */
function awkward(n: number, seed: number): Float32Array {
  const x = uniformData(n, seed);
  const special = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-40, -1e-40, 3e38];
  for (let i = 0; i < n; i += 7) x[i] = special[(i / 7) % special.length]!;
  return x;
}

/** Runs elementwise.wgsl's scalar entry over all n elements (the path the vec4 kernels replace). */
function scalarRun(e: Engine, entry: string, bind: Record<string, Tensor>, n: number, params: Record<string, number> = {}): void {
  if (n) e.run('elementwise', entry, { bind, params: { n, ...params }, ...flat(e, n) });
}

const LENGTHS = [1, 3, 4, 5, 1023, 1024, 4097, 100_003];

/**
 * Launch shapes to run each test under: the adapter's own, the other kind's
 * (so a CPU adapter also checks the GPU layout), and odd ones that exercise
 * the per-thread loops (3 items per thread, small workgroups).
 */
const SHAPES: [string, MemoryBoundShape | null][] = [
  ['own launch shape', null],
  ['CPU shape', CPU_SHAPE],
  ['GPU shape', GPU_SHAPE],
  ['strided, 3 per thread, WG 64', { ...GPU_SHAPE, wg: 64, perThread: 3 }],
  ['contiguous, 3 per thread, WG 32', { ...CPU_SHAPE, wg: 32, perThread: 3 }],
];

async function withShape<T>(e: Engine, shape: MemoryBoundShape | null, fn: () => Promise<T>): Promise<T> {
  forceMemoryBoundShape(e, shape);
  try {
    return await fn();
  } finally {
    forceMemoryBoundShape(e, null);
  }
}

describe('same-shape kernels on vec4 with a scalar tail', () => {
  for (const [shapeName, launchShape] of SHAPES) {
    it(`${shapeName}: add, sub, axpby, mul, relu, reluGrad, affine, addRelu (+ backward), accumulateInto equal the scalar kernels bit for bit`, async () => {
      const e = await testEngine();
      await withShape(e, launchShape, async () => {
        for (const n of LENGTHS) {
          const a = awkward(n, n);
          const b = awkward(n, n + 1);
          for (let i = 3; i < n; i += 11) b[i] = -a[i]!; // a + b = 0 exactly
          await e.asyncScope(async () => {
            const ta = e.tensor(a, [n]);
            const tb = e.tensor(b, [n]);
            const check = async (what: string, got: Tensor, entry: string, bind: Record<string, Tensor>, params: Record<string, number> = {}) => {
              const want = e.empty([n]);
              scalarRun(e, entry, { ...bind, out: want }, n, params);
              expectSameBits(await got.read(), await want.read(), `${what} n=${n}`);
            };
            await check('add', ops.add(ta, tb), 'add_same', { a: ta, b: tb }, { alpha: 1, beta: 1 });
            await check('sub', ops.sub(ta, tb), 'add_same', { a: ta, b: tb }, { alpha: 1, beta: -1 });
            await check('axpby', ops.axpby(0.3, ta, -2.5, tb), 'add_same', { a: ta, b: tb }, { alpha: 0.3, beta: -2.5 });
            await check('mul', ops.mul(ta, tb), 'mul_same', { a: ta, b: tb });
            await check('relu', ops.relu(ta), 'relu_fwd', { a: ta });
            await check('reluGrad', reluGrad(ta, tb), 'relu_bwd', { a: ta, b: tb });
            await check('affine', ops.affine(ta, 2.5, -1), 'affine', { a: ta }, { alpha: 2.5, beta: -1 });
            await check('addRelu', ops.addRelu(ta, tb), 'add_relu', { a: ta, b: tb }, { alpha: 1, beta: 1 });

            // accumulateInto: in place, onto a copy of a.
            const acc = ops.affine(ta, 1, 0);
            accumulateInto(acc, tb, -0.75);
            const accWant = ops.affine(ta, 1, 0);
            scalarRun(e, 'acc_add', { a: tb, out: accWant }, n, { alpha: -0.75 });
            expectSameBits(await acc.read(), await accWant.read(), `accumulateInto n=${n}`);

            // addRelu's backward: relu_bwd's output, for both inputs.
            const x = e.tensor(a, [n], { requiresGrad: true });
            const y = e.tensor(b, [n], { requiresGrad: true });
            const s = ops.addRelu(x, y);
            s.backward(tb);
            const gWant = e.empty([n]);
            scalarRun(e, 'relu_bwd', { a: s, b: tb, out: gWant }, n);
            expectSameBits(await x.grad!.read(), await gWant.read(), `addRelu dx n=${n}`);
            expectSameBits(await y.grad!.read(), await gWant.read(), `addRelu dy n=${n}`);
            x.grad!.dispose();
            y.grad!.dispose();
          });
        }
      });
    });
  }

  it('match the f64 reference on awkward lengths', async () => {
    const e = await testEngine();
    for (const n of LENGTHS) {
      const a = uniformData(n, 2 * n);
      const b = uniformData(n, 2 * n + 1);
      await e.asyncScope(async () => {
        const ta = e.tensor(a, [n]);
        const tb = e.tensor(b, [n]);
        expectAllClose(await ops.add(ta, tb).read(), addRef(a, [n], b, [n]).data);
        expectAllClose(await ops.mul(ta, tb).read(), mulRef(a, [n], b, [n]).data);
        expectAllClose(await ops.relu(ta).read(), reluRef(a));
        expectAllClose(
          await reluGrad(ops.relu(ta), tb).read(),
          Float64Array.from(a, (v, i) => (v > 0 ? b[i]! : 0)),
        );
      });
    }
  });

  it('one dispatch when n is a multiple of 4, two otherwise (vec4 body + scalar tail), one below 4', async () => {
    const e = await testEngine();
    for (const [n, dispatches] of [
      [1024, 1],
      [1027, 2],
      [3, 1],
    ] as const) {
      e.scope(() => {
        const a = e.tensor(uniformData(n, 1), [n]);
        const b = e.tensor(uniformData(n, 2), [n]);
        const c0 = e.counters();
        ops.add(a, b);
        expect(counterDelta(c0, e.counters()).dispatches, `n=${n}`).toBe(dispatches);
      });
    }
  });

  it('views at an offset into a larger buffer (as parameter and gradient arenas hand out)', async () => {
    const e = await testEngine();
    const n = 1029;
    const offset = 64; // arenas place views at 256-byte boundaries
    const base = uniformData(offset + n + 64, 3);
    const b = uniformData(n, 4);
    await e.asyncScope(async () => {
      const whole = e.tensor(base, [base.length]);
      const view = e._view(whole, [n], offset);
      const tb = e.tensor(b, [n]);
      const slice = base.subarray(offset, offset + n);
      expectAllClose(await ops.add(view, tb).read(), addRef(slice, [n], b, [n]).data);
      expectAllClose(await ops.relu(view).read(), reluRef(slice));
      accumulateInto(view, tb, 2);
      const after = await whole.read();
      const want = Float64Array.from(base, (v, i) => (i >= offset && i < offset + n ? v + 2 * b[i - offset]! : v));
      expectAllClose(after, want); // the elements around the view are untouched
      expectSameBits(after.subarray(0, offset), base.subarray(0, offset), 'before the view');
      expectSameBits(after.subarray(offset + n), base.subarray(offset + n), 'after the view');
    });
  });
});

describe('broadcasting add / mul (rank-3 collapsed kernels)', () => {
  it('collapses the common broadcasts to rank ≤ 3', () => {
    const collapse = (a: number[], b: number[]) => {
      const s = broadcastShapes('t', a, b);
      return collapseBroadcast(s, broadcastStrides(a, s), broadcastStrides(b, s));
    };
    expect(collapse([32, 64, 32, 32], [64, 1, 1])).toEqual({ dims: [32, 64, 1024], aStrides: [65536, 1024, 1], bStrides: [0, 1, 0] });
    expect(collapse([100, 512], [512])).toEqual({ dims: [100, 512], aStrides: [512, 1], bStrides: [0, 1] });
    expect(collapse([8, 1, 1], [8, 3, 5])).toEqual({ dims: [8, 15], aStrides: [1, 0], bStrides: [15, 1] });
    expect(collapse([2, 3, 4], [1])).toEqual({ dims: [24], aStrides: [1], bStrides: [0] });
    expect(collapse([1, 5, 1, 7], [4, 1, 6, 1]).dims).toEqual([4, 5, 6, 7]);
  });

  // [a shape, b shape]: per-channel bias (HW a multiple of 4 and not), row
  // vectors (D a multiple of 4 and not), [N, 1, ...], scalars, the
  // broadcast input first, both inputs broadcast, and rank > 3 (the general path).
  const cases: [number[], number[]][] = [
    [
      [3, 5, 4, 4],
      [5, 1, 1],
    ],
    [
      [2, 3, 7, 7],
      [1, 3, 1, 1],
    ],
    [[33, 12], [12]],
    [[33, 10], [10]],
    [
      [6, 1, 1],
      [6, 5, 8],
    ],
    [
      [5, 1023],
      [5, 1],
    ],
    [[4097], [1]],
    [[], [3, 4]],
    [
      [4, 1],
      [1, 8],
    ],
    [
      [1, 5, 1, 8],
      [4, 1, 6, 1],
    ],
    [
      [2, 1, 3, 1, 5],
      [1, 4, 1, 6, 1],
    ],
  ];
  for (const [sa, sb] of cases) {
    it(`${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}: reference, and bit for bit the general broadcast kernel, in every launch shape`, async () => {
      const e = await testEngine();
      for (const [shapeName, launchShape] of SHAPES)
        await withShape(e, launchShape, async () => {
          const a = awkward(prod(sa), 5);
          const b = awkward(prod(sb), 6);
          const aRef = uniformData(prod(sa), 7);
          const bRef = uniformData(prod(sb), 8);
          await e.asyncScope(async () => {
            const shape = broadcastShapes('t', sa, sb);
            const n = prod(shape);
            const ta = e.tensor(a, sa);
            const tb = e.tensor(b, sb);
            const general = (entry: string, alpha: number, beta: number) => {
              const out = e.empty(shape);
              const [slo, shi] = vec8(shape);
              const [alo, ahi] = vec8(broadcastStrides(sa, shape));
              const [blo, bhi] = vec8(broadcastStrides(sb, shape));
              e.run('elementwise', entry, {
                bind: { a: ta, b: tb, out },
                params: { n, ndim: shape.length, alpha, beta, shape_lo: slo, shape_hi: shi, a_str_lo: alo, a_str_hi: ahi, b_str_lo: blo, b_str_hi: bhi },
                ...flat(e, n),
              });
              return out;
            };
            expectSameBits(await ops.add(ta, tb).read(), await general('add_bcast', 1, 1).read(), `add (${shapeName})`);
            expectSameBits(await ops.axpby(-0.5, ta, 3, tb).read(), await general('add_bcast', -0.5, 3).read(), `axpby (${shapeName})`);
            expectSameBits(await ops.mul(ta, tb).read(), await general('mul_bcast', 0, 0).read(), `mul (${shapeName})`);

            const ra = e.tensor(aRef, sa);
            const rb = e.tensor(bRef, sb);
            expectAllClose(await ops.add(ra, rb).read(), addRef(aRef, sa, bRef, sb).data);
            expectAllClose(await ops.mul(ra, rb).read(), mulRef(aRef, sa, bRef, sb).data);
          });
        });
    });
  }

  it('gradients of per-channel and row-vector broadcasts match finite differences', async () => {
    const e = await testEngine();
    for (const [sa, sb] of [
      [
        [2, 3, 2, 4],
        [3, 1, 1],
      ],
      [[5, 8], [8]],
      [
        [3, 1, 5],
        [3, 4, 1],
      ],
    ] as [number[], number[]][]) {
      const inputs = [
        { data: uniformData(prod(sa), 11), shape: sa },
        { data: uniformData(prod(sb), 12), shape: sb },
      ];
      await gradcheck(
        e,
        inputs,
        ([a, b]) => ops.add(a!, b!),
        ([a, b]) => addRef(a!, sa, b!, sb).data,
      );
      await gradcheck(
        e,
        inputs,
        ([a, b]) => ops.mul(a!, b!),
        ([a, b]) => mulRef(a!, sa, b!, sb).data,
      );
    }
  });
});

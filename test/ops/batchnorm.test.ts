// BatchNorm2d against the f64 reference (src/reference/batchnorm.ts): forward
// in train and eval mode, running-statistic updates, gradients (direct
// comparison and finite differences), the input-only backward.
// Tolerances: forward y atol 1e-5 / rtol 1e-4 (2e-5 / 1e-4 for the large
// case); running stats atol 1e-6 / rtol 1e-5; dx, dweight, dbias atol 5e-5 /
// rtol 1e-4 (dweight/dbias are sums over N·H·W elements: rtol 1e-4 with atol
// 1e-5·√(N·H·W)); gradcheck atol 1e-3 / rtol 1e-3 (f32 backward vs f64
// central differences).
// The fused forms (relu, residual, merged passes, in-kernel gradient
// accumulation) are compared with the unfused kernels and ops bit for bit,
// and with the f64 reference like the plain op.
import { describe, expect, it } from 'vitest';
import { counterDelta, ops, ShapeError, type Engine } from '../../src/index.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { batchNorm2dBackwardRef, batchNorm2dRef, batchNormReluBackwardRef } from '../../src/reference/batchnorm.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Data with a non-zero mean and non-unit spread per element. */
const data = (n: number, seed: number, scale = 2, offset = 3) => uniformData(n, seed).map((v) => v * scale + offset);
const positive = (n: number, seed: number) => uniformData(n, seed).map((v) => 0.5 + Math.abs(v));

function params(e: Engine, C: number, affine: boolean) {
  const w = affine ? uniformData(C, 11).map((v) => 1 + 0.5 * v) : null;
  const b = affine ? uniformData(C, 12) : null;
  const rm = uniformData(C, 13).map((v) => 0.1 * v);
  const rv = positive(C, 14);
  return {
    w,
    b,
    rm,
    rv,
    tw: w ? e.tensor(w, [C]) : null,
    tb: b ? e.tensor(b, [C]) : null,
    trm: e.tensor(rm, [C]),
    trv: e.tensor(rv, [C]),
  };
}

describe('batchNorm2d forward (training) and running statistics', () => {
  const shapes: [number[], boolean][] = [
    [[1, 1, 7, 5], true], // batch 1, one channel, odd sizes
    [[2, 3, 7, 5], false], // no affine
    [[3, 5, 1, 1], true], // 1×1 spatial: L = 3
    [[1, 4, 17, 19], true], // L = 323, not a multiple of the workgroup
    [[300, 3, 3, 5], true], // element walker, L = 4500: two chunks, the second ragged
    [[5, 2, 3, 300], true], // HW = 900 ≥ workgroup: whole-image chunks, one chunk
    [[5, 2, 30, 41], true], // whole-image chunks of 3 images: two chunks, the second ragged
  ];
  for (const [shape, affine] of shapes) {
    it(`${JSON.stringify(shape)}${affine ? '' : ' (no affine)'}: y and running stats after two steps`, async () => {
      const e = await testEngine();
      const C = shape[1]!;
      await e.asyncScope(async () => {
        const P = params(e, C, affine);
        const x1 = data(prod(shape), 1);
        const x2 = data(prod(shape), 2, 0.5, -1);
        const o = { training: true, momentum: 0.1, eps: 1e-5 };
        const y1 = ops.batchNorm2d(e.tensor(x1, shape), P.tw, P.tb, P.trm, P.trv, o);
        const r1 = batchNorm2dRef(x1, shape, P.w, P.b, P.rm, P.rv, o);
        expectAllClose(await y1.read(), r1.y);
        const y2 = ops.batchNorm2d(e.tensor(x2, shape), P.tw, P.tb, P.trm, P.trv, { training: true });
        const r2 = batchNorm2dRef(x2, shape, P.w, P.b, r1.runningMean, r1.runningVar, o);
        expectAllClose(await y2.read(), r2.y);
        expectAllClose(await P.trm.read(), r2.runningMean, { atol: 1e-6, rtol: 1e-5 });
        expectAllClose(await P.trv.read(), r2.runningVar, { atol: 1e-6, rtol: 1e-5 });
      });
    });
  }

  it('large [64, 64, 32, 32]: y, running stats, dx/dweight/dbias', async () => {
    const e = await testEngine();
    const shape = [64, 64, 32, 32];
    const C = 64;
    await e.asyncScope(async () => {
      const P = params(e, C, true);
      const x = data(prod(shape), 5);
      const dy = uniformData(prod(shape), 6);
      const o = { training: true, momentum: 0.2 };
      const tx = e.tensor(x, shape, { requiresGrad: true });
      const tw = e.tensor(P.w!, [C], { requiresGrad: true });
      const tb = e.tensor(P.b!, [C], { requiresGrad: true });
      const y = ops.batchNorm2d(tx, tw, tb, P.trm, P.trv, o);
      const r = batchNorm2dRef(x, shape, P.w, P.b, P.rm, P.rv, o);
      expectAllClose(await y.read(), r.y, { atol: 2e-5, rtol: 1e-4 });
      expectAllClose(await P.trm.read(), r.runningMean, { atol: 1e-6, rtol: 1e-5 });
      expectAllClose(await P.trv.read(), r.runningVar, { atol: 1e-6, rtol: 1e-5 });
      y.backward(e.tensor(dy, shape));
      const g = batchNorm2dBackwardRef(x, shape, P.w, dy, r.mean, r.invstd, true);
      expectAllClose(await tx.grad!.read(), g.dx, { atol: 5e-5, rtol: 1e-4 });
      const sumTol = { atol: 1e-5 * Math.sqrt(64 * 32 * 32), rtol: 1e-4 };
      expectAllClose(await tw.grad!.read(), g.dweight, sumTol);
      expectAllClose(await tb.grad!.read(), g.dbias, sumTol);
      for (const t of [tx, tw, tb]) t.grad!.dispose();
    });
  });
});

describe('batchNorm2d eval mode', () => {
  it('uses the running statistics and leaves them unchanged', async () => {
    const e = await testEngine();
    const shape = [3, 4, 7, 5];
    await e.asyncScope(async () => {
      const P = params(e, 4, true);
      const x = data(prod(shape), 3, 1, 0);
      const y = ops.batchNorm2d(e.tensor(x, shape), P.tw, P.tb, P.trm, P.trv, { training: false });
      const r = batchNorm2dRef(x, shape, P.w, P.b, P.rm, P.rv, { training: false });
      expectAllClose(await y.read(), r.y);
      expectAllClose(await P.trm.read(), P.rm, { atol: 0, rtol: 0 });
      expectAllClose(await P.trv.read(), P.rv, { atol: 0, rtol: 0 });
      // batch of one 1×1 image is fine in eval mode
      const y1 = ops.batchNorm2d(e.tensor([2, 3, 4, 5], [1, 4, 1, 1]), P.tw, P.tb, P.trm, P.trv, { training: false });
      expectAllClose(await y1.read(), batchNorm2dRef([2, 3, 4, 5], [1, 4, 1, 1], P.w, P.b, P.rm, P.rv, { training: false }).y);
    });
  });
});

describe('batchNorm2d backward', () => {
  const refY =
    (shape: number[], training: boolean, rm: Float32Array, rv: Float32Array) =>
    (xs: Float64Array[], w: ArrayLike<number> | null, b: ArrayLike<number> | null) =>
      batchNorm2dRef(xs[0]!, shape, w, b, rm, rv, { training }).y;

  for (const training of [true, false]) {
    it(`gradcheck (${training ? 'train' : 'eval'}) w.r.t. x, weight, bias on [2, 3, 3, 5], [1, 2, 5, 3] and [2, 2, 16, 16] (whole-image chunks)`, async () => {
      const e = await testEngine();
      for (const shape of [
        [2, 3, 3, 5],
        [1, 2, 5, 3],
        [2, 2, 16, 16],
      ]) {
        const C = shape[1]!;
        const rm = uniformData(C, 21).map((v) => 0.1 * v);
        const rv = positive(C, 22);
        const f = refY(shape, training, rm, rv);
        await gradcheck(
          e,
          [
            { data: data(prod(shape), 23, 1, 0.5), shape },
            { data: uniformData(C, 24).map((v) => 1 + 0.5 * v), shape: [C] },
            { data: uniformData(C, 25), shape: [C] },
          ],
          ([x, w, b]) => ops.batchNorm2d(x!, w!, b!, e.tensor(rm, [C]), e.tensor(rv, [C]), { training }),
          (xs) => f(xs, xs[1]!, xs[2]!),
          { atol: 1e-3, rtol: 1e-3 },
        );
      }
    });

    it(`input-only backward (${training ? 'train' : 'eval'}): frozen weight/bias get no gradient`, async () => {
      const e = await testEngine();
      const shape = [2, 3, 4, 5];
      const C = 3;
      const rm = uniformData(C, 31).map((v) => 0.1 * v);
      const rv = positive(C, 32);
      const w = uniformData(C, 33).map((v) => 1 + 0.5 * v);
      const b = uniformData(C, 34);
      const f = refY(shape, training, rm, rv);
      await gradcheck(
        e,
        [
          { data: data(prod(shape), 35, 1, -0.5), shape },
          { data: w, shape: [C], grad: false },
          { data: b, shape: [C], grad: false },
        ],
        ([x, tw, tb]) => {
          expect(tw!.requiresGrad).toBe(false);
          return ops.batchNorm2d(x!, tw!, tb!, e.tensor(rm, [C]), e.tensor(rv, [C]), { training });
        },
        (xs) => f(xs, w, b),
        { atol: 1e-3, rtol: 1e-3 },
      );
      // and without affine parameters at all
      await gradcheck(
        e,
        [{ data: data(prod(shape), 36, 1, 0.2), shape }],
        ([x]) => ops.batchNorm2d(x!, null, null, e.tensor(rm, [C]), e.tensor(rv, [C]), { training }),
        (xs) => f(xs, null, null),
        { atol: 1e-3, rtol: 1e-3 },
      );
    });
  }

  const multi: [number[], boolean][] = [
    [[300, 2, 3, 5], true], // walker, two chunks (ragged)
    [[5, 2, 30, 41], true], // whole images, two chunks (ragged)
    [[5, 2, 30, 41], false], // the same with x frozen: weight/bias gradients only
  ];
  for (const [shape, wantX] of multi) {
    it(`${JSON.stringify(shape)}: ${wantX ? 'dx, dweight, dbias' : 'dweight, dbias only (x frozen)'} vs reference`, async () => {
      const e = await testEngine();
      const C = shape[1]!;
      const L = prod(shape) / C;
      await e.asyncScope(async () => {
        const P = params(e, C, true);
        const x = data(prod(shape), 41);
        const dy = uniformData(prod(shape), 42);
        const tx = e.tensor(x, shape, { requiresGrad: wantX });
        const tw = e.tensor(P.w!, [C], { requiresGrad: true });
        const tb = e.tensor(P.b!, [C], { requiresGrad: true });
        const y = ops.batchNorm2d(tx, tw, tb, P.trm, P.trv, { training: true });
        y.backward(e.tensor(dy, shape));
        const r = batchNorm2dRef(x, shape, P.w, P.b, P.rm, P.rv, { training: true });
        const g = batchNorm2dBackwardRef(x, shape, P.w, dy, r.mean, r.invstd, true);
        if (wantX) expectAllClose(await tx.grad!.read(), g.dx, { atol: 5e-5, rtol: 1e-4 });
        else expect(tx.grad).toBeNull();
        const sumTol = { atol: 1e-5 * Math.sqrt(L), rtol: 1e-4 };
        expectAllClose(await tw.grad!.read(), g.dweight, sumTol);
        expectAllClose(await tb.grad!.read(), g.dbias, sumTol);
        for (const t of [tx, tw, tb]) t.grad?.dispose();
      });
    });
  }
});

/** Runs `fn` (a forward; its backward follows the graph it built) with the fused kernels on or off. */
function withFusion<T>(e: Engine, on: boolean, fn: () => T): T {
  const prev = setKernelForms(e, { fused: on });
  try {
    return fn();
  } finally {
    setKernelForms(e, prev);
  }
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Upstream gradients with exact zeros of both signs among them (the add's backward turns −0 into +0). */
function upstream(n: number, seed: number): Float32Array {
  const g = uniformData(n, seed);
  for (let i = 0; i < n; i += 7) g[i] = -0;
  for (let i = 3; i < n; i += 11) g[i] = 0;
  return g;
}

interface FuseCase {
  shape: number[];
  training: boolean;
  /** weight/bias: requiring grad, frozen, or absent. */
  affine: 'grad' | 'frozen' | 'none';
  relu: boolean;
  residual: 'none' | 'grad' | 'frozen';
  wantX: boolean;
}

function describeCase(c: FuseCase): string {
  const epi = [c.residual !== 'none' ? `+ residual${c.residual === 'frozen' ? ' (frozen)' : ''}` : '', c.relu ? '→ relu' : ''].filter(Boolean).join(' ');
  return `${JSON.stringify(c.shape)} ${c.training ? 'train' : 'eval'} ${epi || 'plain'}, affine ${c.affine}${c.wantX ? '' : ', x frozen'}`;
}

/**
 * Two forward/backward passes (the second adds to the first's .grad) of
 * relu(bn(x) + residual) with the fused kernels on or off: every output,
 * gradient and running statistic as bits.
 */
async function fuseRun(e: Engine, c: FuseCase, on: boolean): Promise<Record<string, number[]>> {
  const C = c.shape[1]!;
  const n = prod(c.shape);
  return e.asyncScope(async () => {
    const P = params(e, C, c.affine !== 'none');
    const pw = c.affine === 'grad';
    const tw = P.w ? e.tensor(P.w, [C], { requiresGrad: pw }) : null;
    const tb = P.b ? e.tensor(P.b, [C], { requiresGrad: pw }) : null;
    const x = e.tensor(data(n, 51), c.shape, { requiresGrad: c.wantX });
    const res = c.residual === 'none' ? null : e.tensor(data(n, 52, 1, 0), c.shape, { requiresGrad: c.residual === 'grad' });
    const out: Record<string, number[]> = {};
    for (let it = 0; it < 2; it++) {
      const y = withFusion(e, on, () => ops.batchNorm2d(x, tw, tb, P.trm, P.trv, { training: c.training, relu: c.relu, residual: res }));
      out[`y${it}`] = bits(await y.read());
      if (y.requiresGrad) y.backward(e.tensor(upstream(n, 60 + it), c.shape));
    }
    for (const [k, t] of [
      ['x', x],
      ['weight', tw],
      ['bias', tb],
      ['residual', res],
    ] as const) {
      if (t?.grad) {
        out[`d${k}`] = bits(await t.grad.read());
        t.grad.dispose();
      }
    }
    out['running_mean'] = bits(await P.trm.read());
    out['running_var'] = bits(await P.trv.read());
    return out;
  });
}

describe('batchNorm2d fused forms equal the unfused kernels and ops bit for bit', () => {
  const shapes = [
    [1, 1, 7, 5], // one small chunk (walker)
    [3, 5, 1, 1], // 1×1 planes, L = 3
    [1, 4, 17, 19], // whole images, one chunk, HW not a multiple of the workgroup
    [4, 3, 16, 16], // HW = workgroup: whole images, one chunk
    [300, 3, 3, 5], // walker, two chunks, the second ragged
    [40, 2, 13, 11], // walker, two chunks
    [5, 2, 30, 41], // whole images, two chunks, the second ragged
  ];
  const cases: FuseCase[] = [];
  for (const shape of shapes) {
    for (const [relu, residual] of [
      [true, 'none'],
      [true, 'grad'],
      [false, 'grad'],
      [false, 'none'],
    ] as const) {
      cases.push({ shape, training: true, affine: 'grad', relu, residual, wantX: true });
    }
  }
  cases.push(
    { shape: [300, 3, 3, 5], training: false, affine: 'grad', relu: true, residual: 'grad', wantX: true },
    { shape: [5, 2, 30, 41], training: false, affine: 'none', relu: true, residual: 'none', wantX: true },
    { shape: [1, 4, 17, 19], training: false, affine: 'frozen', relu: true, residual: 'grad', wantX: true },
    { shape: [3, 5, 1, 1], training: false, affine: 'grad', relu: false, residual: 'frozen', wantX: false },
    { shape: [300, 3, 3, 5], training: true, affine: 'grad', relu: true, residual: 'grad', wantX: false },
    { shape: [4, 3, 16, 16], training: true, affine: 'frozen', relu: true, residual: 'grad', wantX: false },
    { shape: [2, 3, 7, 5], training: true, affine: 'none', relu: true, residual: 'frozen', wantX: true },
    { shape: [5, 2, 30, 41], training: true, affine: 'frozen', relu: false, residual: 'grad', wantX: true },
    { shape: [40, 2, 13, 11], training: true, affine: 'none', relu: true, residual: 'grad', wantX: true },
  );
  for (const c of cases) {
    it(describeCase(c), async () => {
      const e = await testEngine();
      const fused = await fuseRun(e, c, true);
      const unfused = await fuseRun(e, c, false);
      expect(Object.keys(fused).sort()).toEqual(Object.keys(unfused).sort());
      for (const k of Object.keys(unfused)) {
        const i = fused[k]!.findIndex((v, j) => v !== unfused[k]![j]);
        expect(i, `${k} differs first at element ${i}`).toBe(-1);
      }
    });
  }

  it('dispatches: training forward 2 (1 for one-chunk channels) and backward 2 (1) with ReLU, residual and the parameter gradients, against 5 and 4–8 unfused', async () => {
    const e = await testEngine();
    for (const [shape, kernels] of [
      [[300, 3, 3, 5], 2],
      [[4, 3, 16, 16], 1],
    ] as const) {
      const C = shape[1];
      const n = prod([...shape]);
      for (const on of [true, false]) {
        await e.asyncScope(async () => {
          const P = params(e, C, true);
          const tw = e.tensor(P.w!, [C], { requiresGrad: true });
          const tb = e.tensor(P.b!, [C], { requiresGrad: true });
          const x = e.tensor(data(n, 53), [...shape], { requiresGrad: true });
          const res = e.tensor(data(n, 54), [...shape], { requiresGrad: true });
          for (let it = 0; it < 2; it++) {
            const dy = e.tensor(upstream(n, 61), [...shape]);
            const c0 = e.counters();
            const y = withFusion(e, on, () => ops.batchNorm2d(x, tw, tb, P.trm, P.trv, { training: true, relu: true, residual: res }));
            const c1 = e.counters();
            y.backward(dy);
            const c2 = e.counters();
            const fwd = counterDelta(c0, c1).dispatches;
            const bwd = counterDelta(c1, c2).dispatches;
            // The second pass adds to .grad: the x and residual leaves through the autograd
            // (acc_add) in both; weight and bias inside the fused kernel.
            if (on) {
              expect([fwd, bwd]).toEqual([kernels, kernels + (it === 0 ? 0 : 2)]);
            } else {
              // stats, merge, apply, add, relu | relu backward (the add's backward is a view), sums, merge, dx
              expect([fwd, bwd]).toEqual([5, it === 0 ? 4 : 8]);
            }
          }
          for (const t of [x, tw, tb, res]) t.grad?.dispose();
        });
      }
    }
  });
});

describe('batchNorm2d fused forms against the f64 reference', () => {
  /** Pushes the residual away from where bn(x) + residual crosses zero (the ReLU's kink). */
  const awayFromKink = (pre: ArrayLike<number>, res: Float32Array) => res.map((v, i) => (Math.abs(pre[i]! + v) < 0.05 ? v + 0.1 : v));

  for (const training of [true, false]) {
    for (const shape of [
      [2, 3, 3, 5],
      [300, 2, 3, 5],
      [5, 2, 30, 41],
    ]) {
      it(`relu(bn(x) + residual) ${JSON.stringify(shape)} (${training ? 'train' : 'eval'}): y, running stats, dx, dweight, dbias, dresidual`, async () => {
        const e = await testEngine();
        const C = shape[1]!;
        const n = prod(shape);
        const L = n / C;
        await e.asyncScope(async () => {
          const P = params(e, C, true);
          const x = data(n, 71);
          const plain = batchNorm2dRef(x, shape, P.w, P.b, P.rm, P.rv, { training });
          const res = awayFromKink(plain.y, data(n, 72, 1, 0));
          const dy = uniformData(n, 73);
          const tx = e.tensor(x, shape, { requiresGrad: true });
          const tw = e.tensor(P.w!, [C], { requiresGrad: true });
          const tb = e.tensor(P.b!, [C], { requiresGrad: true });
          const ts = e.tensor(res, shape, { requiresGrad: true });
          const y = ops.batchNorm2d(tx, tw, tb, P.trm, P.trv, { training, relu: true, residual: ts });
          const r = batchNorm2dRef(x, shape, P.w, P.b, P.rm, P.rv, { training, relu: true, residual: res });
          expectAllClose(await y.read(), r.y);
          expectAllClose(await P.trm.read(), r.runningMean, { atol: 1e-6, rtol: 1e-5 });
          expectAllClose(await P.trv.read(), r.runningVar, { atol: 1e-6, rtol: 1e-5 });
          y.backward(e.tensor(dy, shape));
          const g = batchNormReluBackwardRef(x, shape, P.w, dy, r.y, r.mean, r.invstd, training);
          expectAllClose(await tx.grad!.read(), g.dx, { atol: 5e-5, rtol: 1e-4 });
          expectAllClose(await ts.grad!.read(), g.dresidual, { atol: 0, rtol: 0 });
          const sumTol = { atol: 1e-5 * Math.sqrt(L), rtol: 1e-4 };
          expectAllClose(await tw.grad!.read(), g.dweight, sumTol);
          expectAllClose(await tb.grad!.read(), g.dbias, sumTol);
          for (const t of [tx, tw, tb, ts]) t.grad!.dispose();
        });
      });
    }

    it(`gradcheck relu(bn(x) + residual) and relu(bn(x)) (${training ? 'train' : 'eval'}) w.r.t. x, weight, bias, residual on [2, 3, 3, 5] and [2, 2, 16, 16]`, async () => {
      const e = await testEngine();
      for (const shape of [
        [2, 3, 3, 5],
        [2, 2, 16, 16],
      ]) {
        const C = shape[1]!;
        const n = prod(shape);
        const rm = uniformData(C, 81).map((v) => 0.1 * v);
        const rv = positive(C, 82);
        const x = data(n, 83, 1, 0.5);
        const w = uniformData(C, 84).map((v) => 1 + 0.5 * v);
        const b = uniformData(C, 85);
        const res = awayFromKink(batchNorm2dRef(x, shape, w, b, rm, rv, { training }).y, data(n, 86, 1, 0));
        await gradcheck(
          e,
          [
            { data: x, shape },
            { data: w, shape: [C] },
            { data: b, shape: [C] },
            { data: res, shape },
          ],
          ([tx, tw, tb, ts]) => ops.batchNorm2d(tx!, tw!, tb!, e.tensor(rm, [C]), e.tensor(rv, [C]), { training, relu: true, residual: ts! }),
          (xs) => batchNorm2dRef(xs[0]!, shape, xs[1]!, xs[2]!, rm, rv, { training, relu: true, residual: xs[3]! }).y,
          { atol: 1e-3, rtol: 1e-3 },
        );
        // relu alone: a bias that keeps bn(x) away from zero.
        const pre = batchNorm2dRef(x, shape, w, null, rm, rv, { training }).y;
        const HW = shape[2]! * shape[3]!;
        const bias = Float32Array.from(b, (v, c) => {
          const near = (u: number) => pre.some((p, i) => Math.floor(i / HW) % C === c && Math.abs(p + u) < 0.05);
          while (near(v)) v += 0.037;
          return v;
        });
        await gradcheck(
          e,
          [
            { data: x, shape },
            { data: w, shape: [C] },
            { data: bias, shape: [C] },
          ],
          ([tx, tw, tb]) => ops.batchNorm2d(tx!, tw!, tb!, e.tensor(rm, [C]), e.tensor(rv, [C]), { training, relu: true }),
          (xs) => batchNorm2dRef(xs[0]!, shape, xs[1]!, xs[2]!, rm, rv, { training, relu: true }).y,
          { atol: 1e-3, rtol: 1e-3 },
        );
      }
    });
  }

  it('rejects a residual of another shape', async () => {
    const e = await testEngine();
    e.scope(() => {
      const rm = e.tensor([0, 0, 0], [3]);
      const rv = e.tensor([1, 1, 1], [3]);
      const x = e.tensor(uniformData(2 * 3 * 4), [2, 3, 2, 2]);
      const r = e.tensor(uniformData(3 * 4), [1, 3, 2, 2]);
      expect(() => ops.batchNorm2d(x, null, null, rm, rv, { training: true, residual: r })).toThrow(
        /batchNorm2d: residual must have the input's shape \[2, 3, 2, 2\], got \[1, 3, 2, 2\]/,
      );
    });
  });
});

describe('batchNorm2d shape checks', () => {
  it('names the op and the shapes', async () => {
    const e = await testEngine();
    e.scope(() => {
      const rm = e.tensor([0, 0, 0], [3]);
      const rv = e.tensor([1, 1, 1], [3]);
      const x = e.tensor(uniformData(2 * 3 * 4), [2, 3, 4]);
      expect(() => ops.batchNorm2d(x, null, null, rm, rv, { training: true })).toThrow(/batchNorm2d: expected NCHW input, got \[2, 3, 4\]/);
      const x4 = e.tensor(uniformData(2 * 4 * 4), [2, 4, 2, 2]);
      expect(() => ops.batchNorm2d(x4, null, null, rm, rv, { training: true })).toThrow(ShapeError);
      const one = e.tensor([1, 2, 3], [1, 3, 1, 1]);
      expect(() => ops.batchNorm2d(one, null, null, rm, rv, { training: true })).toThrow(/more than 1 value per channel/);
    });
  });
});

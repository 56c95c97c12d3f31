// Elementwise ops and sums against the f64 reference, and their gradients
// against finite differences. Tolerance: atol 1e-5, rtol 1e-4 unless stated.
import { describe, expect, it } from 'vitest';
import { counterDelta, ops, type Engine } from '../../src/index.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { addRef, addReluRef, mulRef, reluRef } from '../../src/reference/elementwise.js';
import { sumRef, sumToShapeRef } from '../../src/reference/reduce.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { expectInPlaceGradsMatch } from '../helpers/grad-in-place.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe('add / mul with broadcasting', () => {
  const cases: [number[], number[]][] = [
    [[1], [1]],
    [[7], [7]],
    [
      [3, 5],
      [3, 5],
    ],
    [[3, 5], [5]],
    [
      [4, 1, 6],
      [3, 1],
    ],
    [
      [2, 3, 4, 5],
      [1, 3, 1, 1],
    ],
    [
      [1000, 3],
      [1, 3],
    ],
    [
      [257, 129],
      [257, 129],
    ],
  ];
  for (const [sa, sb] of cases) {
    it(`${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}`, async () => {
      const e = await testEngine();
      const a = uniformData(prod(sa), 1);
      const b = uniformData(prod(sb), 2);
      await e.asyncScope(async () => {
        const ta = e.tensor(a, sa);
        const tb = e.tensor(b, sb);
        const s = ops.add(ta, tb);
        const m = ops.mul(ta, tb);
        const refS = addRef(a, sa, b, sb);
        expect(s.shape).toEqual(refS.shape);
        expectAllClose(await s.read(), refS.data);
        expectAllClose(await m.read(), mulRef(a, sa, b, sb).data);
      });
    });
  }

  it('rejects shapes that do not broadcast, naming both', async () => {
    const e = await testEngine();
    e.scope(() => {
      const a = e.tensor(uniformData(6), [2, 3]);
      const b = e.tensor(uniformData(4), [4]);
      expect(() => ops.add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    });
  });

  it('gradients of broadcast add, sub and mul match finite differences', async () => {
    const e = await testEngine();
    const inputs = [
      { data: uniformData(24, 3), shape: [2, 3, 4] },
      { data: uniformData(4, 4), shape: [1, 4] },
    ];
    await gradcheck(
      e,
      inputs,
      ([a, b]) => ops.add(a!, b!),
      ([a, b]) => addRef(a!, [2, 3, 4], b!, [1, 4]).data,
    );
    await gradcheck(
      e,
      inputs,
      ([a, b]) => ops.sub(a!, b!),
      ([a, b]) =>
        addRef(
          a!,
          [2, 3, 4],
          Float64Array.from(b!, (x) => -x),
          [1, 4],
        ).data,
    );
    await gradcheck(
      e,
      inputs,
      ([a, b]) => ops.mul(a!, b!),
      ([a, b]) => mulRef(a!, [2, 3, 4], b!, [1, 4]).data,
    );
  });
});

// A broadcast leaf (a position embedding) gets its gradient added in place by the sum's last
// pass when its scale is 1 (src/autograd/leaf-grad.ts): bit for bit sumToShape + acc_add, into
// an existing .grad or none, one leaf added twice; sub's scale −1 keeps the separate add.
describe('add: broadcast leaf gradients added in place', () => {
  it('bit for bit sumToShape + acc_add', async () => {
    const e = await testEngine();
    for (const [xS, pS] of [
      [
        [8, 65, 12],
        [1, 65, 12],
      ],
      [[8, 65, 12], [12]],
      [[300, 7], [7]],
      [
        [4, 3, 5],
        [4, 1, 5],
      ],
    ]) {
      for (const grad of [true, false]) {
        const what = `${JSON.stringify(xS)} + ${JSON.stringify(pS)}, .grad ${grad ? 'existing' : 'none'}`;
        const r = await expectInPlaceGradsMatch(
          e,
          [
            { shape: xS!, grad: true, frozen: true },
            { shape: pS!, grad },
          ],
          ([x, p]) => ops.add(x!, p!),
          what,
        );
        expect(r.inPlace.accAdds, what).toEqual([0, 0]);
        expect(r.old.accAdds[1], what).toBeGreaterThan(0);
        await expectInPlaceGradsMatch(
          e,
          [
            { shape: xS!, grad: true, frozen: true },
            { shape: pS!, grad },
          ],
          ([x, p]) => ops.add(ops.add(x!, p!), ops.sub(x!, p!)),
          `${what}, added and subtracted`,
        );
      }
    }
  });
});

describe('relu, affine', () => {
  it('forward on sizes around the workgroup size', async () => {
    const e = await testEngine();
    for (const n of [1, 255, 256, 257, 100_003]) {
      const x = uniformData(n, n);
      await e.asyncScope(async () => {
        const t = e.tensor(x, [n]);
        expectAllClose(await ops.relu(t).read(), reluRef(x));
        expectAllClose(
          await ops.affine(t, 2.5, -1).read(),
          Float64Array.from(x, (v) => 2.5 * v - 1),
        );
      });
    }
  });

  it('relu and affine gradients match finite differences', async () => {
    const e = await testEngine();
    // Keep inputs away from relu's kink at 0 where the derivative jumps.
    const x = uniformData(40, 7).map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
    await gradcheck(
      e,
      [{ data: x, shape: [5, 8] }],
      ([t]) => ops.relu(t!),
      ([t]) => reluRef(t!),
    );
    await gradcheck(
      e,
      [{ data: x, shape: [5, 8] }],
      ([t]) => ops.scale(t!, -3),
      ([t]) => Float64Array.from(t!, (v) => -3 * v),
    );
  });

  it('relu keeps NaN (as PyTorch does), so a diverged run cannot hide behind it', async () => {
    const e = await testEngine();
    await e.asyncScope(async () => {
      const y = await ops.relu(e.tensor([Number.NaN, -1, 2], [3])).read();
      expect(Number.isNaN(y[0])).toBe(true);
      expect(Array.from(y.subarray(1))).toEqual([0, 2]);
      const m = await ops.matmul(e.tensor([Number.NaN, 1], [1, 2]), e.tensor([1, 1], [2, 1]), { activation: 'relu' }).read();
      expect(Number.isNaN(m[0])).toBe(true);
    });
  });

  it('a grid above 65535 workgroups is folded into two dimensions', async () => {
    const e = await testEngine();
    const n = 65535 * 256 + 1000; // one more workgroup than fits in x
    await e.asyncScope(async () => {
      const t = e.tensor(new Float32Array(n).fill(-2), [n]);
      const y = ops.affine(t, -1, 0.5); // 2.5 everywhere
      const data = await y.read();
      expect(data[0]).toBe(2.5);
      expect(data[n - 1]).toBe(2.5);
      expect(data[65535 * 256]).toBe(2.5);
      expect(data.every((v) => v === 2.5)).toBe(true);
    });
  });
});

describe('addRelu = relu(a + b) fused', () => {
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

  /** Forward and backward (twice, the second adding to .grad) with the fused kernel on or off, as bits. */
  async function run(e: Engine, on: boolean, a: Float32Array, b: Float32Array, shape: number[], dys: Float32Array[], grads = [true, true]) {
    return e.asyncScope(async () => {
      const ta = e.tensor(a, shape, { requiresGrad: grads[0] });
      const tb = e.tensor(b, shape, { requiresGrad: grads[1] });
      const out: Record<string, number[]> = {};
      for (let it = 0; it < dys.length; it++) {
        const prev = setKernelForms(e, { fused: on });
        const y = ops.addRelu(ta, tb);
        setKernelForms(e, prev);
        out[`y${it}`] = bits(await y.read());
        if (y.requiresGrad) y.backward(e.tensor(dys[it]!, shape));
      }
      if (ta.grad) out['da'] = bits(await ta.grad.read());
      if (tb.grad) out['db'] = bits(await tb.grad.read());
      ta.grad?.dispose();
      tb.grad?.dispose();
      return out;
    });
  }

  it('forward against the f64 reference on sizes around the workgroup size', async () => {
    const e = await testEngine();
    for (const n of [1, 255, 256, 257, 100_003]) {
      const a = uniformData(n, n);
      const b = uniformData(n, n + 1);
      await e.asyncScope(async () => {
        expectAllClose(await ops.addRelu(e.tensor(a, [n]), e.tensor(b, [n])).read(), addReluRef(a, b));
      });
    }
  });

  it('equals relu(add(a, b)) bit for bit, forward and backward: zero sums, ±0 gradients, NaN, one input frozen', async () => {
    const e = await testEngine();
    for (const shape of [[1], [3, 85], [2, 3, 43], [257, 129]]) {
      const n = prod(shape);
      const a = uniformData(n, 5);
      const b = uniformData(n, 6);
      for (let i = 0; i < n; i += 5) b[i] = -a[i]!; // a + b = 0 exactly: the ReLU's kink
      if (n > 10) a[9] = Number.NaN;
      const dys = [0, 1].map((k) => {
        const g = uniformData(n, 7 + k);
        for (let i = 0; i < n; i += 3) g[i] = -0;
        for (let i = 1; i < n; i += 4) g[i] = 0;
        return g;
      });
      for (const grads of [
        [true, true],
        [true, false],
        [false, true],
      ]) {
        const fused = await run(e, true, a, b, shape, dys, grads);
        const unfused = await run(e, false, a, b, shape, dys, grads);
        expect(Object.keys(fused).sort()).toEqual(Object.keys(unfused).sort());
        for (const k of Object.keys(unfused)) {
          const i = fused[k]!.findIndex((v, j) => v !== unfused[k]![j]);
          expect(i, `${JSON.stringify(shape)} ${grads}: ${k} differs first at element ${i}`).toBe(-1);
        }
      }
    }
  });

  it('one dispatch forward (relu(add) takes 2); the backward is one relu_bwd either way', async () => {
    const e = await testEngine();
    for (const on of [true, false]) {
      await e.asyncScope(async () => {
        const a = e.tensor(uniformData(1000, 1), [10, 100], { requiresGrad: true });
        const b = e.tensor(uniformData(1000, 2), [10, 100], { requiresGrad: true });
        const dy = e.tensor(uniformData(1000, 3), [10, 100]);
        const c0 = e.counters();
        const prev = setKernelForms(e, { fused: on });
        const y = ops.addRelu(a, b);
        setKernelForms(e, prev);
        const c1 = e.counters();
        y.backward(dy);
        const c2 = e.counters();
        // Both inputs take relu_bwd's output (the add's backward hands it on as a view; the leaf
        // that keeps it first as its .grad gets a buffer copy, not a dispatch, as it must not share it).
        expect([counterDelta(c0, c1).dispatches, counterDelta(c1, c2).dispatches]).toEqual(on ? [1, 1] : [2, 1]);
        a.grad?.dispose();
        b.grad?.dispose();
      });
    }
  });

  it('gradients match finite differences; broadcasting shapes take the unfused ops', async () => {
    const e = await testEngine();
    // Keep a + b away from relu's kink at 0.
    const a = uniformData(40, 8);
    const b = uniformData(40, 9).map((v, i) => (Math.abs(v + a[i]!) < 0.05 ? v + 0.1 : v));
    await gradcheck(
      e,
      [
        { data: a, shape: [5, 8] },
        { data: b, shape: [5, 8] },
      ],
      ([x, y]) => ops.addRelu(x!, y!),
      ([x, y]) => addReluRef(x!, y!),
    );
    const c = uniformData(8, 10).map((v) => v + 3); // a + c > 0 everywhere
    await gradcheck(
      e,
      [
        { data: a, shape: [5, 8] },
        { data: c, shape: [8] },
      ],
      ([x, y]) => ops.addRelu(x!, y!),
      ([x, y]) => reluRef(addRef(x!, [5, 8], y!, [8]).data),
    );
  });
});

describe('sum, mean, sumToShape', () => {
  it('sum and mean of vectors of many lengths', async () => {
    const e = await testEngine();
    for (const n of [1, 3, 256, 4097, 16385, 16384 * 4 + 17, 1_000_003]) {
      const x = uniformData(n, n);
      await e.asyncScope(async () => {
        const t = e.tensor(x, [n]);
        const s = ops.sum(t);
        expect(s.shape).toEqual([]);
        // f32 accumulation of n terms: error grows like sqrt(n)·eps.
        expectAllClose(await s.read(), [sumRef(x)], { atol: 1e-4 * Math.sqrt(n), rtol: 1e-4 });
        expectAllClose(await ops.mean(t).read(), [sumRef(x) / n], { atol: 1e-5, rtol: 1e-3 });
      });
    }
  });

  it('sumToShape reverses broadcasting', async () => {
    const e = await testEngine();
    const shape = [3, 4, 5, 2];
    for (const target of [
      [1, 4, 1, 2],
      [5, 2],
      [1, 1, 1, 1],
      [3, 1, 5, 1],
    ]) {
      const x = uniformData(prod(shape), 9);
      await e.asyncScope(async () => {
        const r = ops.sumToShape(e.tensor(x, shape), target);
        expectAllClose(await r.read(), sumToShapeRef(x, shape, target));
      });
    }
  });

  it('gradients of sum and mean match finite differences', async () => {
    const e = await testEngine();
    const x = uniformData(30, 5);
    await gradcheck(
      e,
      [{ data: x, shape: [3, 10] }],
      ([t]) => ops.sum(t!),
      ([t]) => [sumRef(t!)],
    );
    await gradcheck(
      e,
      [{ data: x, shape: [3, 10] }],
      ([t]) => ops.mean(t!),
      ([t]) => [sumRef(t!) / 30],
    );
  });
});

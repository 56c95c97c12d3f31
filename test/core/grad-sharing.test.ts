// Gradients pass through residual adds and reshapes as views of one buffer (no copy), and are
// never written in place on their way back; a leaf that keeps one as its .grad — which later
// backward passes add into in place — gets a buffer of its own.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

describe('gradients shared as views', () => {
  it('a + b: both leaves get the gradient, in buffers of their own, and accumulate independently', async () => {
    const e = await testEngine();
    await e.asyncScope(async () => {
      const a = e.tensor(uniformData(12, 1), [3, 4], { requiresGrad: true });
      const b = e.tensor(uniformData(12, 2), [3, 4], { requiresGrad: true });
      const g = uniformData(12, 3);
      const y = ops.add(a, b);
      const up = e.tensor(g, [3, 4]);
      const c0 = e.counters();
      y.backward(up);
      // No kernel copies the gradient (two views; one buffer copy for the leaf that keeps it first).
      expect(e.counters().dispatches - c0.dispatches).toBe(0);
      expect(a.grad!.buffer).not.toBe(b.grad!.buffer);
      expect(Array.from(await a.grad!.read())).toEqual(Array.from(g));
      expect(Array.from(await b.grad!.read())).toEqual(Array.from(g));
      // A second pass through a alone adds into a.grad and leaves b.grad as it was.
      ops.mul(a, e.tensor(uniformData(12, 4), [3, 4])).backward(e.tensor(g, [3, 4]));
      expect(Array.from(await b.grad!.read())).toEqual(Array.from(g));
      expect(Array.from(await a.grad!.read())).not.toEqual(Array.from(g));
      a.grad!.dispose();
      b.grad!.dispose();
    });
  });

  it("a reshape's backward on the caller's upstream gradient: the leaf copies it, and the caller's tensor is never written", async () => {
    const e = await testEngine();
    await e.asyncScope(async () => {
      const x = e.tensor(uniformData(12, 5), [3, 4], { requiresGrad: true });
      const g = uniformData(12, 6);
      const upstream = e.tensor(g, [12]);
      ops.reshape(x, [12]).backward(upstream);
      expect(x.grad!.buffer).not.toBe(upstream.buffer);
      // Accumulating into x.grad (a second backward) must not reach the caller's tensor.
      ops.reshape(x, [12]).backward(e.tensor(g, [12]));
      expect(Array.from(await upstream.read())).toEqual(Array.from(g));
      expect(Array.from(await x.grad!.read())).toEqual(Array.from(g, (v) => Math.fround(v + v)));
      x.grad!.dispose();
    });
  });
});

// Where one tensor feeds several ops, its gradient is the sum of what each gives back. The kernel
// that computes the last contributions adds them into the sum so far in place (matmul's input
// gradient, layer norm's; src/autograd/pending.ts) — the same f32 adds as the separate adds of the
// unfused forms, so the same bits, with fewer dispatches.
describe('input gradients added in place into their pending sum', () => {
  async function run(fused: boolean) {
    const e = await testEngine();
    const prev = setKernelForms(e, { fused });
    try {
      return await e.asyncScope(async () => {
        const [N, L, D] = [2, 5, 12];
        const x = e.tensor(uniformData(N * L * D, 11), [N, L, D], { requiresGrad: true });
        const lnW = e.tensor(uniformData(D, 12), [D], { requiresGrad: true });
        const lnB = e.tensor(uniformData(D, 13), [D], { requiresGrad: true });
        const ws = [14, 15, 16].map((s) => e.tensor(uniformData(D * D, s), [D, D], { requiresGrad: true }));
        // A pre-norm block: a = 2x; h = LN(a); three projections of h (as q, k, v), summed and
        // projected again; the residual a + that.
        const a = ops.scale(x, 2);
        const h = ops.reshape(ops.layerNorm(a, lnW, lnB), [N * L, D]);
        const [q, k, v] = ws.map((w) => ops.matmul(h, w));
        const branch = ops.reshape(ops.matmul(ops.add(ops.add(q!, k!), v!), ws[0]!), [N, L, D]);
        const y = ops.add(a, branch);
        const c0 = e.counters();
        y.backward(e.tensor(uniformData(N * L * D, 17), [N, L, D]));
        const dispatches = e.counters().dispatches - c0.dispatches;
        const grads = await Promise.all([x, lnW, lnB, ...ws].map((t) => t.grad!.read()));
        for (const t of [x, lnW, lnB, ...ws]) t.grad!.dispose();
        return { dispatches, grads };
      });
    } finally {
      setKernelForms(e, prev);
    }
  }

  it('a reshape consumed twice, its input once more: the sums in the autograd order, the same bits', async () => {
    // y feeds a reshape (whose output two matmuls take) and a scale: the reshape's two gradients
    // must be summed before they reach y's sum, so neither matmul adds into y's sum directly.
    const once = async (fused: boolean) => {
      const e = await testEngine();
      const prev = setKernelForms(e, { fused });
      try {
        return await e.asyncScope(async () => {
          const x = e.tensor(uniformData(6 * 8, 21), [2, 3, 8], { requiresGrad: true });
          const [w1, w2] = [22, 23].map((s) => e.tensor(uniformData(64, s), [8, 8]));
          const y = ops.scale(x, 1.5);
          const t = ops.reshape(y, [6, 8]);
          const out = ops.add(ops.add(ops.reshape(ops.matmul(t, w1!), [2, 3, 8]), ops.reshape(ops.matmul(t, w2!), [2, 3, 8])), ops.scale(y, 2));
          out.backward(e.tensor(uniformData(48, 24), [2, 3, 8]));
          const g = await x.grad!.read();
          x.grad!.dispose();
          return g;
        });
      } finally {
        setKernelForms(e, prev);
      }
    };
    expect(Array.from(await once(true))).toEqual(Array.from(await once(false)));
  });

  it('a pre-norm block: the same bits as the separate adds, three dispatches fewer', async () => {
    const fused = await run(true);
    const separate = await run(false);
    fused.grads.forEach((g, i) => expect(Array.from(g), `gradient ${i}`).toEqual(Array.from(separate.grads[i]!)));
    // h's three projections: two adds become matmul epilogues; a's two gradients: layer norm adds.
    // (The unfused forms also add the parameters' gradients separately: count only what differs here.)
    expect(separate.dispatches - fused.dispatches).toBeGreaterThanOrEqual(3);
  });
});

// Gradients pass through residual adds and reshapes as views of one buffer (no copy), and are
// never written in place on their way back; a leaf that keeps one as its .grad — which later
// backward passes add into in place — gets a buffer of its own.
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
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

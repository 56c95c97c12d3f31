// backward() on a disposed tensor (issue 18, item 10): it used to do nothing — no error, and
// the gradients stayed null — so a loss disposed too early trained nothing, silently.
import { describe, expect, it } from 'vitest';
import { DisposedError, ops } from '../../src/index.js';
import { testEngine } from '../helpers/engine.js';

describe('backward() after dispose()', () => {
  it('a disposed loss throws DisposedError naming it, and leaves the gradients untouched', async () => {
    const e = await testEngine();
    const x = e.tensor([1, -2, 3], [3], { requiresGrad: true });
    const loss = ops.sum(ops.relu(x));
    loss.dispose();
    expect(() => loss.backward()).toThrow(DisposedError);
    expect(() => loss.backward()).toThrow(/backward\(\) on Tensor#\d+\[\] f32.*which was disposed/);
    expect(x.grad).toBeNull();
    // The same graph, not disposed, still differentiates.
    const again = ops.sum(ops.relu(x));
    again.backward();
    expect(Array.from(await x.grad!.read())).toEqual([1, 0, 1]);
    again.dispose();
    x.dispose();
  });

  it('a disposed leaf, or a disposed upstream gradient, is refused too', async () => {
    const e = await testEngine();
    const leaf = e.tensor([2], [1], { requiresGrad: true });
    leaf.dispose();
    expect(() => leaf.backward()).toThrow(DisposedError);
    const x = e.tensor([1, 2], [2], { requiresGrad: true });
    const y = ops.relu(x);
    const g = e.tensor([1, 1], [2]);
    g.dispose();
    expect(() => y.backward(g)).toThrow(/upstream gradient .* was disposed/);
    expect(x.grad).toBeNull();
    y.dispose();
    x.dispose();
  });
});

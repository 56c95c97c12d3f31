// maskSpread against the f64 reference (src/reference/mask-stats.ts) on awkward shapes:
// one mask, an odd batch, a non-square 5×3 mask, 28×28 masks (S > 256 threads, so the
// per-thread strided sums matter), and a batch larger than one workgroup. Also: constant masks
// give exactly 0, no gradient is recorded, and a captured step replays it with no host work.
import { describe, expect, it } from 'vitest';
import { counterDelta, ops, type Engine, type Tensor } from '../../src/index.js';
import { maskSpread } from '../../src/ops/mask-stats.js';
import { maskSpreadRef, maskStdRef } from '../../src/reference/mask-stats.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

/** Masks in [0, 1] like the Mix Block's (a sigmoid's range), each with its own spread. */
function masks(N: number, S: number, seed: number): Float32Array {
  const r = uniformData(N * S, seed);
  const out = new Float32Array(N * S);
  for (let n = 0; n < N; n++) {
    const centre = 0.5 + 0.4 * Math.sin(n + seed); // mask n's mean
    const amp = (0.5 * ((n * 7 + seed) % 11)) / 10; // mask n's spread, 0 for some
    for (let s = 0; s < S; s++) out[n * S + s] = Math.min(1, Math.max(0, centre + amp * r[n * S + s]!));
  }
  return out;
}

async function spread(e: Engine, m: Float32Array, shape: number[]): Promise<Float32Array> {
  return e.asyncScope(async () => maskSpread(e.tensor(m, shape)).read());
}

describe('maskSpread', () => {
  const shapes: [number, number, number][] = [
    [1, 5, 3],
    [7, 5, 3],
    [1, 28, 28],
    [7, 28, 28],
    [3, 1, 1],
    [5, 7, 9],
    [300, 4, 4], // more masks than the summary's 256 threads
    [2, 224, 224], // many positions per thread
  ];
  for (const [N, H, W] of shapes) {
    it(`[${N}, 1, ${H}, ${W}]`, async () => {
      const e = await testEngine();
      const m = masks(N, H * W, N + H + W);
      const got = await spread(e, m, [N, 1, H, W]);
      const want = maskSpreadRef(m, N, H * W);
      expect(got.length).toBe(3);
      expectAllClose(got, want, { atol: 2e-6, rtol: 1e-5 });
      // min ≤ mean ≤ max, and the extremes are some mask's own σ.
      expect(got[1]!).toBeLessThanOrEqual(got[0]! + 1e-7);
      expect(got[0]!).toBeLessThanOrEqual(got[2]! + 1e-7);
      if (N > 1 && H * W > 1) expect(want[2]).toBeGreaterThan(want[1]); // the test masks differ in spread
      if (H * W === 1) expect(Array.from(got)).toEqual([0, 0, 0]); // one position: no spread
    });
  }

  it('is 0 for constant masks, 0.5 for half-0 half-1 masks, and exact for a near-uniform one', async () => {
    const e = await testEngine();
    const S = 28 * 28;
    const m = new Float32Array(3 * S);
    m.fill(0.73, 0, S); // constant: σ = 0 exactly (the mean is subtracted before squaring)
    for (let s = 0; s < S; s++) m[S + s] = s % 2; // σ = 0.5
    for (let s = 0; s < S; s++) m[2 * S + s] = 0.6 + (s % 2 ? 1e-4 : -1e-4); // σ = 1e-4 on a 0.6 offset
    const got = await spread(e, m, [3, 1, 28, 28]);
    const want = maskSpreadRef(m, 3, S);
    expect(got[1]).toBe(0);
    expect(got[2]).toBeCloseTo(0.5, 6);
    expect(maskStdRef(m, 3, S)[2]).toBeCloseTo(1e-4, 6);
    expectAllClose(got, want, { atol: 1e-7, rtol: 1e-5 });
  });

  it('records no gradient and refuses other shapes', async () => {
    const e = await testEngine();
    await e.asyncScope(async () => {
      const m = e.tensor(masks(4, 9, 1), [4, 1, 3, 3], { requiresGrad: true });
      const s = maskSpread(m);
      expect(s.requiresGrad).toBe(false);
      expect(s.shape).toEqual([3]);
      // It composes with differentiable ops without joining the graph.
      const l = ops.mean(ops.mul(m, m));
      l.backward();
      expect(m.grad).toBeTruthy();
      expect(() => maskSpread(e.tensor(new Float32Array(8), [2, 2, 2]))).toThrow(/\[N, 1, H, W\]/);
      expect(() => maskSpread(e.tensor(new Float32Array(8), [1, 2, 2, 2]))).toThrow(/\[N, 1, H, W\]/);
      expect(() => maskSpread(e.tensor(new Int32Array(4), [1, 1, 2, 2], { dtype: 'i32' }))).toThrow(/f32/);
      m.grad!.dispose();
    });
  });

  it('replays inside a captured step: no readback, no writes, same numbers for new mask contents', async () => {
    const e = await testEngine();
    const N = 7;
    const S = 5 * 3;
    const input = e.tensor(masks(N, S, 3), [N, 1, 5, 3]);
    const result = e.empty([3]);
    const step = () =>
      e.scope(() => {
        e.copyBuffer(maskSpread(input), result);
        return null;
      });
    e.capture(step);
    const plan = e.plan(e.capture(step).recording, [result]);
    e.replay(plan);
    e.flush();
    const before = e.counters();
    e.replay(plan);
    e.flush();
    const d = counterDelta(before, e.counters());
    expect(d.bufferWrites).toBe(0);
    expect(d.syncReadbacks).toBe(0);
    expect(d.buffers).toBe(0);
    expect(d.dispatches).toBe(2);
    // New contents of the input (written between steps, as the trainer does) give their own numbers.
    const m2 = masks(N, S, 11);
    input.write(m2);
    e.replay(plan);
    expectAllClose(await result.read(), maskSpreadRef(m2, N, S), { atol: 2e-6, rtol: 1e-5 });
    plan.dispose();
    for (const t of [input, result] as Tensor[]) t.dispose();
  });
});

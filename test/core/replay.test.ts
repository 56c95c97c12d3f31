// Capture and replay at the engine level: a recorded step replays to the same
// bits as running it eagerly, creates no GPU objects in its steady state, and
// every way a step could not be replayed is refused with a CaptureError.
import { describe, expect, it } from 'vitest';
import { CaptureError, counterDelta, DisposedError, ops, recordingMismatch, type Engine, type Tensor } from '../../src/index.js';
import { uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';

/** A little training step with no per-step values in uniforms: y = relu(x·w), loss = mean(y²), w −= 0.1·∇w. */
function makeStep(e: Engine, w: Tensor, x: Tensor, loss: Tensor) {
  return () =>
    e.scope(() => {
      w.grad = null;
      const y = ops.matmul(x, w, { activation: 'relu' });
      const l = ops.mean(ops.mul(y, y));
      l.backward();
      const upd = ops.axpby(1, ops.detach(w), -0.1, w.grad!);
      e.copyBuffer(upd, w);
      e.copyBuffer(l, loss);
      w.grad!.dispose();
      w.grad = null;
      return null;
    });
}

async function setup(e: Engine) {
  const w = e.tensor(uniformData(6 * 5, 1), [6, 5], { requiresGrad: true });
  const x = e.tensor(uniformData(7 * 6, 2), [7, 6]);
  const loss = e.empty([1]);
  return { w, x, loss, step: makeStep(e, w, x, loss) };
}

describe('capture and replay', () => {
  it('replays to the same bits as the eager step, step after step', async () => {
    const e = await testEngine();
    const eager = await setup(e);
    const replayed = await setup(e);
    const losses: [number, number][] = [];
    // Two captured steps (which also run), checked against each other, then replays.
    const a = e.capture(replayed.step).recording;
    const b = e.capture(replayed.step).recording;
    expect(recordingMismatch(a, b)).toBeNull();
    const plan = e.plan(b, [replayed.loss]);
    for (let i = 0; i < 8; i++) {
      eager.step();
      if (i >= 2) e.replay(plan);
      if (i >= 2) losses.push([await eager.loss.item(), await replayed.loss.item()]);
    }
    for (const [l1, l2] of losses) expect(l2).toBe(l1);
    expect(Array.from(await replayed.w.read())).toEqual(Array.from(await eager.w.read()));
    plan.dispose();
    for (const t of [eager.w, eager.x, eager.loss, replayed.w, replayed.x, replayed.loss]) t.dispose();
  });

  it('a steady-state replay creates no GPU objects and reads nothing back', async () => {
    const e = await testEngine();
    const s = await setup(e);
    e.capture(s.step);
    const plan = e.plan(e.capture(s.step).recording, [s.loss]);
    e.replay(plan);
    e.flush();
    const before = e.counters();
    for (let i = 0; i < 3; i++) {
      e.replay(plan);
      e.flush();
    }
    const d = counterDelta(before, e.counters());
    expect(d.pipelines).toBe(0);
    expect(d.bindGroups).toBe(0);
    expect(d.buffers).toBe(0);
    expect(d.bufferWrites).toBe(0);
    expect(d.syncReadbacks).toBe(0);
    expect(d.dispatches).toBe(3 * plan.stats.dispatches);
    expect(d.submits).toBe(3);
    plan.dispose();
    for (const t of [s.w, s.x, s.loss]) t.dispose();
  });

  it('names the uniform field of a per-step value passed as a number', async () => {
    const e = await testEngine();
    const x = e.tensor([1, 2, 3], [3]);
    let k = 0;
    const step = () => e.scope(() => void ops.affine(x, 1, ++k));
    const a = e.capture(step).recording;
    const b = e.capture(step).recording;
    expect(recordingMismatch(a, b)).toMatch(/elementwise:affine.*Params\.beta differs between steps/);
    x.dispose();
  });

  it('refuses host writes inside a captured step', async () => {
    const e = await testEngine();
    const x = e.tensor([1, 2, 3], [3]);
    expect(() => e.capture(() => x.write([4, 5, 6]))).toThrow(CaptureError);
    // The engine is usable afterwards.
    x.write([7, 8, 9]);
    expect(Array.from(await x.read())).toEqual([7, 8, 9]);
    x.dispose();
  });

  it('refuses state created inside the step that outlives it', async () => {
    const e = await testEngine();
    const x = e.tensor([1, 2, 3], [3]);
    let kept: Tensor | null = null;
    const { recording } = e.capture(() => {
      kept = ops.affine(x, 2, 0);
    });
    expect(() => e.plan(recording, [])).toThrow(/still held after it/);
    expect(e.plan(recording, [kept!]).stats.dispatches).toBe(1);
    kept!.dispose();
    x.dispose();
  });

  it('a plan whose input was disposed refuses to replay', async () => {
    const e = await testEngine();
    const x = e.tensor([1, 2, 3], [3]);
    const out = e.empty([3]);
    const step = () => e.scope(() => void e.copyBuffer(ops.affine(x, 2, 1), out));
    const plan = e.plan(e.capture(step).recording, [out]);
    x.dispose();
    expect(() => e.replay(plan)).toThrow(DisposedError);
    plan.dispose();
    out.dispose();
  });
});

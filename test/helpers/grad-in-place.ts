/**
 * The in-place gradient standard (src/autograd/leaf-grad.ts): a kernel that
 * adds a parameter's gradient into its `.grad` must leave the bits the old
 * path leaves — the op's result, then a separate acc_add (accumulateInto).
 *
 * `inPlaceGradRun` runs a forward and its backward twice over fresh leaves,
 * with the fused kernel forms on (in-place accumulation) or off (the old
 * path), each leaf starting with a `.grad` in an arena (random values, like a
 * gradient arena mid-step; the view at a 256-byte offset as in a ParamSet) or
 * with none (the first backward creates it, the second adds to it), and
 * returns every leaf's `.grad` and the dispatches each backward issued.
 * `expectInPlaceGradsMatch` runs both and compares the bits.
 */
import { expect } from 'vitest';
import { counterDelta, type Engine, type Tensor } from '../../src/index.js';
import { setKernelForms } from '../../src/ops/kernel-forms.js';
import { createArena, disposeArena } from '../../src/tensor/arena.js';
import { expectSameBits, uniformData } from './allclose.js';

export interface LeafSpec {
  shape: number[];
  /** Whether the leaf starts with a `.grad` (an arena view holding random values) or none. */
  grad: boolean;
  /** Frozen: does not require grad (default false). */
  frozen?: boolean;
}

export interface InPlaceRun {
  grads: (Float32Array | null)[];
  /** Dispatches of each backward, and how many of them were acc_add. */
  backward: number[];
  accAdds: number[];
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Runs `fn`; returns how many dispatches it issued and how many of them were acc_add (one tensor may take two: vec4 body and tail). */
export function countDispatches(e: Engine, fn: () => void): { dispatches: number; accAdds: number } {
  const c0 = e.counters();
  let accAdds = 0;
  const dispatch = e.ctx.dispatchChecked;
  e.ctx.dispatchChecked = (d) => {
    if (d.label.endsWith(':acc_add')) accAdds++;
    dispatch.call(e.ctx, d);
  };
  try {
    fn();
  } finally {
    e.ctx.dispatchChecked = dispatch;
  }
  return { dispatches: counterDelta(c0, e.counters()).dispatches, accAdds };
}

export async function inPlaceGradRun(e: Engine, fused: boolean, specs: LeafSpec[], forward: (leaves: Tensor[]) => Tensor, seed = 1): Promise<InPlaceRun> {
  return e.asyncScope(async () => {
    const prev = setKernelForms(e, { fused });
    // A leading pad view: the leaves' .grad sit at non-zero, 256-byte-aligned offsets.
    const withGrad = specs.map((s, i) => (s.grad && !s.frozen ? i : -1)).filter((i) => i >= 0);
    const arena = createArena(e, [[3], ...withGrad.map((i) => specs[i]!.shape)]);
    try {
      const leaves = specs.map((s, i) => e.tensor(uniformData(size(s.shape), seed * 100 + i), s.shape, { requiresGrad: !s.frozen }));
      withGrad.forEach((i, k) => {
        const g = arena.views[k + 1]!;
        g.write(uniformData(g.size, seed * 100 + 50 + i));
        leaves[i]!.grad = g;
      });
      const backward: number[] = [];
      const accAdds: number[] = [];
      for (let it = 0; it < 2; it++) {
        const y = forward(leaves);
        const up = e.tensor(uniformData(y.size, seed * 100 + 90 + it), y.shape);
        const n = countDispatches(e, () => y.backward(up));
        backward.push(n.dispatches);
        accAdds.push(n.accAdds);
      }
      const grads: (Float32Array | null)[] = [];
      for (const [i, t] of leaves.entries()) {
        grads.push(t.grad ? await t.grad.read() : null);
        if (t.grad && !withGrad.includes(i)) t.grad.dispose();
        t.grad = null;
      }
      return { grads, backward, accAdds };
    } finally {
      setKernelForms(e, prev);
      disposeArena(arena);
    }
  });
}

/**
 * Runs `forward` + backward twice with in-place accumulation and with the old
 * path, and expects every `.grad` bit for bit the same; returns both runs (the
 * caller checks the dispatch counts it expects).
 */
export async function expectInPlaceGradsMatch(
  e: Engine,
  specs: LeafSpec[],
  forward: (leaves: Tensor[]) => Tensor,
  what: string,
  seed = 1,
): Promise<{ inPlace: InPlaceRun; old: InPlaceRun }> {
  const inPlace = await inPlaceGradRun(e, true, specs, forward, seed);
  const old = await inPlaceGradRun(e, false, specs, forward, seed);
  specs.forEach((s, i) => {
    const [g, w] = [inPlace.grads[i], old.grads[i]];
    expect(g === null, `${what}: leaf ${i} has a .grad in one path only`).toBe(w === null);
    if (g && w) expectSameBits(g, w, `${what}: leaf ${i} ${JSON.stringify(s.shape)}`);
  });
  return { inPlace, old };
}

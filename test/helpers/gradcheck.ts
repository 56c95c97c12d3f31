/**
 * Finite-difference checks of backward rules.
 *
 * The GPU function's analytic gradient (from `backward`) is compared with
 * central differences of the plain-TypeScript reference evaluated in f64, so
 * the check is not limited by f32 rounding. A non-scalar output is reduced to
 * a scalar with fixed random weights w: L = Σ w ⊙ f(x).
 */
import type { Engine, Tensor } from '../../src/index.js';
import { ops } from '../../src/index.js';
import { allcloseReport, uniformData, type Tol } from './allclose.js';
import { expect } from 'vitest';

export interface GradInput {
  data: Float32Array;
  shape: number[];
  /** Set false for inputs that take no gradient (indices, constants). */
  grad?: boolean;
}

export async function gradcheck(
  engine: Engine,
  inputs: GradInput[],
  gpu: (xs: Tensor[]) => Tensor,
  ref: (xs: Float64Array[]) => ArrayLike<number>,
  tol: Tol = { atol: 1e-4, rtol: 1e-3 },
  eps = 1e-3,
): Promise<void> {
  const x64 = inputs.map((i) => Float64Array.from(i.data));
  const outLen = ref(x64).length;
  const w = uniformData(outLen, 12345);
  const lossRef = (xs: Float64Array[]): number => {
    const y = ref(xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += w[i]! * y[i]!;
    return s;
  };
  const analytic = await engine.asyncScope(async () => {
    const ts = inputs.map((i) => engine.tensor(i.data, i.shape, { requiresGrad: i.grad !== false }));
    const y = gpu(ts);
    const loss = ops.sum(ops.mul(y, engine.tensor(w, y.shape)));
    loss.backward();
    const gs: (Float32Array | null)[] = [];
    for (const t of ts) gs.push(t.grad ? await t.grad.read() : null);
    for (const t of ts) t.grad?.dispose();
    return gs;
  });
  inputs.forEach((inp, k) => {
    if (inp.grad === false) return;
    const numeric = new Float64Array(inp.data.length);
    for (let i = 0; i < numeric.length; i++) {
      const orig = x64[k]![i]!;
      x64[k]![i] = orig + eps;
      const up = lossRef(x64);
      x64[k]![i] = orig - eps;
      const down = lossRef(x64);
      x64[k]![i] = orig;
      numeric[i] = (up - down) / (2 * eps);
    }
    const g = analytic[k];
    expect(g, `input ${k} received no gradient`).toBeTruthy();
    const r = allcloseReport(g!, numeric, tol);
    expect(r, `gradient of input ${k} ${JSON.stringify(inp.shape)}: ${r}`).toBeNull();
  });
}

import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { ShapeError } from '../../src/device/errors.js';
import { patchEmbedBackwardRef, patchEmbedRef, type PatchGeom } from '../../src/reference/patch-embed.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { expectInPlaceGradsMatch } from '../helpers/grad-in-place.js';

const engine = await testEngine();
const TOL = { atol: 1e-4, rtol: 1e-4 };

const CASES: (PatchGeom & { name: string })[] = [
  { name: 'batch 1, one channel, P=2', N: 1, C: 1, H: 4, W: 6, D: 3, P: 2 },
  { name: 'odd D and token count, P=3', N: 3, C: 3, H: 9, W: 6, D: 13, P: 3 },
  { name: 'P=1 (a 1×1 conv)', N: 2, C: 5, H: 3, W: 5, D: 7, P: 1 },
  { name: 'P=4, C=3 → 32 (ViT-like)', N: 2, C: 3, H: 16, W: 16, D: 32, P: 4 },
  { name: 'larger: N=8 C=3 32×32 P=4 → 64', N: 8, C: 3, H: 32, W: 32, D: 64, P: 4 },
];

describe('patchEmbed forward', () => {
  for (const g of CASES) {
    it(g.name, async () => {
      const xd = uniformData(g.N * g.C * g.H * g.W, 1);
      const wd = uniformData(g.D * g.C * g.P * g.P, 2);
      const bd = uniformData(g.D, 3);
      const L = (g.H / g.P) * (g.W / g.P);
      const got = await engine.asyncScope(async () => {
        const t = ops.patchEmbed(engine.tensor(xd, [g.N, g.C, g.H, g.W]), engine.tensor(wd, [g.D, g.C, g.P, g.P]), engine.tensor(bd, [g.D]), g.P);
        expect(t.shape).toEqual([g.N, L, g.D]);
        return t.read();
      });
      expectAllClose(got, patchEmbedRef(xd, wd, bd, g), TOL);
    });
  }
  it('without bias', async () => {
    const g: PatchGeom = { N: 2, C: 2, H: 4, W: 4, D: 5, P: 2 };
    const xd = uniformData(64, 4);
    const wd = uniformData(40, 5);
    const got = await engine.asyncScope(async () => ops.patchEmbed(engine.tensor(xd, [2, 2, 4, 4]), engine.tensor(wd, [5, 2, 2, 2]), null, 2).read());
    expectAllClose(got, patchEmbedRef(xd, wd, null, g), TOL);
  });
});

describe('patchEmbed gradients', () => {
  it('gradcheck x, w, bias', async () => {
    const g: PatchGeom = { N: 2, C: 2, H: 4, W: 6, D: 3, P: 2 };
    await gradcheck(
      engine,
      [
        { data: uniformData(2 * 2 * 4 * 6, 11), shape: [2, 2, 4, 6] },
        { data: uniformData(3 * 2 * 2 * 2, 12), shape: [3, 2, 2, 2] },
        { data: uniformData(3, 13), shape: [3] },
      ],
      ([x, w, b]) => ops.patchEmbed(x!, w!, b!, 2),
      ([x, w, b]) => patchEmbedRef(x!, w!, b!, g),
      { atol: 1e-3, rtol: 1e-3 },
    );
  });

  for (const g of [CASES[1]!, CASES[4]!]) {
    it(`backward vs reference: ${g.name}`, async () => {
      const L = (g.H / g.P) * (g.W / g.P);
      const xd = uniformData(g.N * g.C * g.H * g.W, 21);
      const wd = uniformData(g.D * g.C * g.P * g.P, 22);
      const dtd = uniformData(g.N * L * g.D, 23);
      const [dx, dw, db] = await engine.asyncScope(async () => {
        const x = engine.tensor(xd, [g.N, g.C, g.H, g.W], { requiresGrad: true });
        const w = engine.tensor(wd, [g.D, g.C, g.P, g.P], { requiresGrad: true });
        const b = engine.tensor(uniformData(g.D, 24), [g.D], { requiresGrad: true });
        const t = ops.patchEmbed(x, w, b, g.P);
        t.backward(engine.tensor(dtd, t.shape));
        const r = [await x.grad!.read(), await w.grad!.read(), await b.grad!.read()];
        for (const v of [x, w, b]) v.grad?.dispose();
        return r;
      });
      const ref = patchEmbedBackwardRef(xd, wd, dtd, g);
      expectAllClose(dx!, ref.dx, TOL);
      expectAllClose(dw!, ref.dw, { atol: 5e-4, rtol: 1e-4 });
      expectAllClose(db!, ref.db, { atol: 5e-4, rtol: 1e-4 });
    });
  }

  it('input-only backward leaves the frozen weight and bias without gradients', async () => {
    const g: PatchGeom = { N: 2, C: 3, H: 6, W: 6, D: 4, P: 3 };
    const xd = uniformData(2 * 3 * 36, 31);
    const wd = uniformData(4 * 3 * 9, 32);
    const dtd = uniformData(2 * 4 * 4, 33);
    const r = await engine.asyncScope(async () => {
      const x = engine.tensor(xd, [2, 3, 6, 6], { requiresGrad: true });
      const w = engine.tensor(wd, [4, 3, 3, 3]);
      const b = engine.tensor(uniformData(4, 34), [4]);
      const t = ops.patchEmbed(x, w, b, 3);
      engine.startProfiling();
      t.backward(engine.tensor(dtd, t.shape));
      const kernels = (await engine.stopProfiling()).map((k) => k.kernel);
      const dx = await x.grad!.read();
      x.grad!.dispose();
      return { kernels, dx, wg: w.grad, bg: b.grad };
    });
    expect(r.wg).toBeNull();
    expect(r.bg).toBeNull();
    if (engine.features.has('timestamp-query')) {
      expect(r.kernels).toContain('patch_embed:patch_embed_bwd_input');
      expect(r.kernels).not.toContain('patch_embed:patch_embed_bwd_weight');
      expect(r.kernels).not.toContain('patch_embed:patch_embed_bwd_bias');
    }
    expectAllClose(r.dx, patchEmbedBackwardRef(xd, wd, dtd, g).dx, TOL);
  });
});

// The weight's and the bias's gradients added in place by patch_embed_bwd_weight / _bias
// (src/autograd/leaf-grad.ts): bit for bit the gradients then acc_add, over two backwards into
// an existing .grad or none, and one weight and bias used by two patch embeddings.
describe('patchEmbed gradients added in place', () => {
  for (const g of [...CASES, { name: 'empty batch', N: 0, C: 3, H: 8, W: 8, D: 5, P: 4 }]) {
    it(`${g.name}: bit for bit the gradients + acc_add`, async () => {
      const xS = [g.N, g.C, g.H, g.W];
      const wS = [g.D, g.C, g.P, g.P];
      for (const grad of [true, false]) {
        const r = await expectInPlaceGradsMatch(
          engine,
          [
            { shape: xS, grad: true },
            { shape: wS, grad },
            { shape: [g.D], grad },
          ],
          ([x, w, b]) => ops.patchEmbed(x!, w!, b!, g.P),
          `${g.name} .grad ${grad ? 'existing' : 'none'}`,
        );
        // x's gradient keeps its acc_add; the weight's and the bias's lose theirs once they have a .grad.
        if (g.N > 0) {
          const saved = r.old.accAdds.map((n, i) => n - r.inPlace.accAdds[i]!);
          expect(saved[0]! >= (grad ? 2 : 0) && saved[0]! <= (grad ? 4 : 0) && saved[1]! >= 2, `acc_add saved ${saved}`).toBe(true);
          expect(r.old.backward.map((n, i) => n - r.old.accAdds[i]!)).toEqual(r.inPlace.backward.map((n, i) => n - r.inPlace.accAdds[i]!));
        }
      }
      await expectInPlaceGradsMatch(
        engine,
        [
          { shape: xS, grad: false, frozen: true },
          { shape: xS, grad: false, frozen: true },
          { shape: wS, grad: true },
          { shape: [g.D], grad: true },
        ],
        ([x, x2, w, b]) => ops.add(ops.patchEmbed(x!, w!, b!, g.P), ops.patchEmbed(x2!, w!, b!, g.P)),
        `${g.name} used twice`,
      );
    });
  }
});

describe('patchEmbed shape errors', () => {
  const t = (s: number[]) => engine.tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s);
  it('H or W not divisible by P', () => {
    expect(() => ops.patchEmbed(t([1, 3, 7, 8]), t([4, 3, 2, 2]), null, 2)).toThrow(ShapeError);
    expect(() => ops.patchEmbed(t([1, 3, 8, 6]), t([4, 3, 4, 4]), null, 4)).toThrow(/H=8, W=6, not divisible by the patch size 4/);
  });
  it('weight that does not match', () => {
    expect(() => ops.patchEmbed(t([1, 3, 8, 8]), t([4, 2, 2, 2]), null, 2)).toThrow(/weight must have shape \[D, 3, 2, 2\]/);
    expect(() => ops.patchEmbed(t([1, 3, 8, 8]), t([4, 3, 2, 2]), t([5]), 2)).toThrow(/bias must have shape \[4\]/);
  });
});

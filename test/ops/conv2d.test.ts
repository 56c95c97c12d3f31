import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { ShapeError } from '../../src/device/errors.js';
import {
  conv2dForwardRaw,
  conv2dGradBiasRaw,
  conv2dGradInputRaw,
  conv2dGradWeightRaw,
  conv2dShape,
  splitKPlan,
  type Conv2dOptions,
  type Conv2dPath,
} from '../../src/ops/conv2d.js';
import { conv2dBackwardRef, conv2dRef, convOutSize } from '../../src/reference/conv2d.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { type Conv2dCase, conv2dCaseGeom } from '../helpers/conv2d-case.js';
import { adapterFacts } from '../helpers/adapter.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

type Case = Conv2dCase;

const geom = conv2dCaseGeom;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Tolerances: f32 accumulation over up to a few hundred terms of O(1) values.
const TOL = { atol: 1e-4, rtol: 1e-4 };

const FORWARD: Case[] = [
  { name: 'batch 1, one channel, 3×3 pad 1', x: [1, 1, 5, 5], w: [1, 1, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'odd 7×5, stride 2, pad 1', x: [2, 3, 7, 5], w: [5, 3, 3, 3], o: { stride: 2, padding: 1 }, bias: true },
  { name: 'pad 0', x: [2, 4, 9, 6], w: [6, 4, 3, 3] },
  { name: 'pad 2, 5×5 kernel', x: [1, 2, 6, 7], w: [3, 2, 5, 5], o: { padding: 2 }, bias: true },
  { name: 'dilation 2', x: [2, 3, 9, 10], w: [4, 3, 3, 3], o: { padding: 2, dilation: 2 } },
  { name: 'groups 2', x: [2, 4, 6, 6], w: [6, 2, 3, 3], o: { padding: 1, groups: 2 }, bias: true },
  { name: 'depthwise', x: [2, 5, 7, 6], w: [5, 1, 3, 3], o: { padding: 1, groups: 5 }, bias: true },
  { name: 'grouped 3×3 (ResNeXt, 4 groups, stride 2)', x: [2, 16, 8, 8], w: [16, 4, 3, 3], o: { stride: 2, padding: 1, groups: 4 } },
  { name: 'non-square 1×3 kernel', x: [2, 3, 5, 7], w: [4, 3, 1, 3], o: { padding: [0, 1] }, bias: true },
  { name: '1×1 conv', x: [3, 7, 5, 5], w: [9, 7, 1, 1], bias: true },
  { name: '1×1 conv, stride 2, pad 1', x: [2, 3, 6, 5], w: [5, 3, 1, 1], o: { stride: 2, padding: 1 } },
  { name: 'out channels 13 (no tile multiple)', x: [2, 3, 11, 9], w: [13, 3, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'asymmetric stride/pad/dilation', x: [1, 2, 12, 11], w: [3, 2, 3, 2], o: { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }, bias: true },
  { name: 'kernel equals padded input', x: [2, 2, 3, 4], w: [3, 2, 5, 6], o: { padding: 1 } },
  { name: 'stem: one channel (CK = 9), 28×28', x: [3, 1, 28, 28], w: [8, 1, 3, 3], o: { padding: 1 } },
  { name: '7×7 (HW = 49), 5 output channels', x: [2, 6, 7, 7], w: [5, 6, 3, 3], o: { padding: 1 }, bias: true },
  { name: '7×7 → 4×4, stride 2', x: [2, 8, 7, 7], w: [12, 8, 3, 3], o: { stride: 2, padding: 1 } },
];

// Every test below runs once per implementation, asked for with the `impl`
// option (which the backward rule passes on): 'im2col' (im2col + matmul;
// grouped convs fall back to direct), 'direct' (kernels/conv2d.wgsl) and
// 'splitk' (what GPUs without 8-lane subgroups run: direct forward and
// grad-input, split-K grad-weight from kernels/conv2d_grad_weight.wgsl) and
// 'sg' (kernels/conv2d_sg.wgsl where it applies — KW ≤ 4, 8-lane
// subgroups; grad-weight W and Wo multiples of 4 —, else im2col's rule; its
// own shapes and bit-identity with im2col are in conv2d-sg.test.ts).
const PATHS: Conv2dPath[] = ['im2col', 'direct', 'splitk', 'sg'];

// Grad-weight cases (raw launcher vs the f64 reference), run on every path.
const GRAD_WEIGHT: Case[] = [
  { name: 'batch 1, one channel, 3×3 pad 1', x: [1, 1, 5, 5], w: [1, 1, 3, 3], o: { padding: 1 } },
  { name: 'one input channel → 6 (stem-like), 9×9', x: [3, 1, 9, 9], w: [6, 1, 3, 3], o: { padding: 1 } },
  { name: 'groups 2', x: [2, 4, 6, 6], w: [6, 2, 3, 3], o: { padding: 1, groups: 2 } },
  { name: 'depthwise, 5 channels', x: [2, 5, 7, 6], w: [5, 1, 3, 3], o: { padding: 1, groups: 5 } },
  { name: 'stride 2, odd 11×9', x: [2, 3, 11, 9], w: [5, 3, 3, 3], o: { stride: 2, padding: 1 } },
  { name: 'dilation 2, pad 2', x: [2, 3, 9, 10], w: [4, 3, 3, 3], o: { padding: 2, dilation: 2 } },
  { name: '1×1', x: [3, 7, 5, 5], w: [9, 7, 1, 1] },
  { name: '1×1 stride 2 pad 1', x: [2, 3, 6, 5], w: [5, 3, 1, 1], o: { stride: 2, padding: 1 } },
  { name: 'odd 7×5, asymmetric stride/pad/dilation, 2×3 kernel', x: [3, 2, 7, 5], w: [3, 2, 2, 3], o: { stride: [2, 1], padding: [1, 2], dilation: [1, 2] } },
  { name: 'O = 40, CK = 70·9 (several 64×64 tiles)', x: [2, 70, 5, 5], w: [40, 70, 3, 3], o: { padding: 1 } },
  { name: 'grouped 3×3, 4 groups, stride 2', x: [2, 16, 8, 8], w: [16, 4, 3, 3], o: { stride: 2, padding: 1, groups: 4 } },
  { name: 'large N·H·W: N=32 4→8 32×32', x: [32, 4, 32, 32], w: [8, 4, 3, 3], o: { padding: 1 } },
];

const engine = await testEngine();
/** 8-lane subgroups: where 'sg' runs its own kernels. */
const sgAdapter = adapterFacts(engine).subgroups8;

for (const path of PATHS)
  describe(`path ${path}`, () => {
    /** The case's options with this path requested. */
    const on = (o?: Conv2dOptions): Conv2dOptions => ({ ...o, impl: { path } });

    describe(`conv2d forward [${path}]`, () => {
      for (const c of FORWARD) {
        it(c.name, async () => {
          const g = geom(c);
          const xd = uniformData(size(c.x), 11);
          const wd = uniformData(size(c.w), 12);
          const bd = c.bias ? uniformData(c.w[0], 13) : null;
          const got = await engine.asyncScope(async () => {
            const x = engine.tensor(xd, c.x);
            const w = engine.tensor(wd, c.w);
            const b = bd ? engine.tensor(bd, [c.w[0]]) : null;
            const y = ops.conv2d(x, w, b, on(c.o));
            expect(y.shape).toEqual([g.N, g.O, ...convOutSize(g)]);
            return y.read();
          });
          expectAllClose(got, conv2dRef(xd, wd, bd, g), TOL);
        });
      }

      // Not repeated under 'splitk': its forward is the 'direct' forward (checked by the
      // path-choice tests), and this case is the slowest in the file on lavapipe.
      if (path !== 'splitk')
        it('large case N=8 C=64 32×32 → 64', async () => {
          const c: Case = { name: 'large', x: [8, 64, 32, 32], w: [64, 64, 3, 3], o: { padding: 1 }, bias: true };
          const g = geom(c);
          const xd = uniformData(size(c.x), 21);
          const wd = uniformData(size(c.w), 22).map((v) => v * 0.05);
          const bd = uniformData(64, 23);
          const got = await engine.asyncScope(async () => {
            const y = ops.conv2d(engine.tensor(xd, c.x), engine.tensor(wd, c.w), engine.tensor(bd, [64]), on(c.o));
            return y.read();
          });
          expectAllClose(got, conv2dRef(xd, wd, bd, g), { atol: 2e-4, rtol: 1e-4 });
        });
    });

    const GRADCHECK: Case[] = [
      { name: '3×3 pad 1 with bias', x: [2, 2, 4, 5], w: [3, 2, 3, 3], o: { padding: 1 }, bias: true },
      { name: 'stride 2, dilation 2, pad 2', x: [1, 2, 7, 6], w: [2, 2, 3, 3], o: { stride: 2, padding: 2, dilation: 2 }, bias: true },
      { name: 'groups 2, 1×3', x: [2, 4, 3, 5], w: [2, 2, 1, 3], o: { padding: [0, 1], groups: 2 }, bias: true },
      { name: 'depthwise stride 2 pad 0', x: [1, 3, 5, 6], w: [3, 1, 2, 2], o: { stride: 2, groups: 3 }, bias: true },
    ];

    describe(`conv2d gradients [${path}]`, () => {
      for (const c of GRADCHECK) {
        it(`gradcheck: ${c.name}`, async () => {
          const g = geom(c);
          await gradcheck(
            engine,
            [
              { data: uniformData(size(c.x), 31), shape: c.x },
              { data: uniformData(size(c.w), 32), shape: c.w },
              { data: uniformData(c.w[0], 33), shape: [c.w[0]] },
            ],
            ([x, w, b]) => ops.conv2d(x!, w!, b!, on(c.o)),
            ([x, w, b]) => conv2dRef(x!, w!, b!, g),
            { atol: 1e-3, rtol: 1e-3 },
          );
        });
      }

      const BIG: Case[] = [
        { name: 'N=4 C=16→24 15×13, pad 1', x: [4, 16, 15, 13], w: [24, 16, 3, 3], o: { padding: 1 } },
        { name: 'N=2 C=12→20 stride 2 pad 1 groups 4', x: [2, 12, 14, 11], w: [20, 3, 3, 3], o: { stride: 2, padding: 1, groups: 4 } },
        { name: 'N=3 depthwise 8 ch, dilation 2, pad 2', x: [3, 8, 10, 9], w: [8, 1, 3, 3], o: { padding: 2, dilation: 2, groups: 8 } },
        { name: '1×1 conv pad 1 (negative transposed padding)', x: [2, 5, 6, 7], w: [6, 5, 1, 1], o: { padding: 1 } },
        { name: 'N=3 C=1→6 7×7 pad 1 (CK = 9, HW = 49)', x: [3, 1, 7, 7], w: [6, 1, 3, 3], o: { padding: 1 } },
        { name: 'N=2 C=6→5 stride 2 pad 1 7×7 (O = 5, col2im)', x: [2, 6, 7, 7], w: [5, 6, 3, 3], o: { stride: 2, padding: 1 } },
        { name: 'N=2 C=4→8 dilation 2 pad 1 9×8 (transposed conv)', x: [2, 4, 9, 8], w: [8, 4, 3, 3], o: { padding: 1, dilation: 2 } },
      ];
      for (const c of BIG) {
        it(`backward vs reference: ${c.name}`, async () => {
          const g = geom(c);
          const [Ho, Wo] = convOutSize(g);
          const xd = uniformData(size(c.x), 41);
          const wd = uniformData(size(c.w), 42);
          const dyd = uniformData(g.N * g.O * Ho * Wo, 43);
          const [dx, dw, db] = await engine.asyncScope(async () => {
            const x = engine.tensor(xd, c.x, { requiresGrad: true });
            const w = engine.tensor(wd, c.w, { requiresGrad: true });
            const b = engine.tensor(uniformData(c.w[0], 44), [c.w[0]], { requiresGrad: true });
            const y = ops.conv2d(x, w, b, on(c.o));
            y.backward(engine.tensor(dyd, y.shape));
            const r = [await x.grad!.read(), await w.grad!.read(), await b.grad!.read()];
            for (const t of [x, w, b]) t.grad?.dispose();
            return r;
          });
          const ref = conv2dBackwardRef(xd, wd, dyd, g);
          expectAllClose(dx!, ref.dx, TOL);
          expectAllClose(dw!, ref.dw, { atol: 5e-4, rtol: 1e-4 });
          expectAllClose(db!, ref.db, { atol: 5e-4, rtol: 1e-4 });
        });
      }

      it('input-only backward (frozen weight) computes only the input gradient', async () => {
        const c: Case = { name: 'frozen', x: [2, 3, 6, 6], w: [4, 3, 3, 3], o: { padding: 1 } };
        const g = geom(c);
        const xd = uniformData(size(c.x), 51);
        const wd = uniformData(size(c.w), 52);
        const dyd = uniformData(g.N * g.O * 36, 53);
        const r = await engine.asyncScope(async () => {
          const x = engine.tensor(xd, c.x, { requiresGrad: true });
          const w = engine.tensor(wd, c.w);
          const b = engine.tensor(uniformData(4, 54), [4]);
          const y = ops.conv2d(x, w, b, on(c.o));
          engine.startProfiling();
          y.backward(engine.tensor(dyd, y.shape));
          const kernels = (await engine.stopProfiling()).map((t) => t.kernel);
          const dx = await x.grad!.read();
          x.grad!.dispose();
          return { kernels, dx, wGrad: w.grad, bGrad: b.grad };
        });
        expect(r.wGrad).toBeNull();
        expect(r.bGrad).toBeNull();
        if (engine.features.has('timestamp-query')) {
          if (path === 'im2col') expect(r.kernels).toContain('im2col:w_flip');
          else if (path === 'sg') expect(r.kernels).toContain(sgAdapter ? 'conv2d_sg:conv2d_sg' : 'im2col:w_flip');
          else expect(r.kernels).toContain('conv2d:conv2d_bwd_input');
          expect(r.kernels).not.toContain('conv2d:conv2d_bwd_weight');
          expect(r.kernels).not.toContain('conv2d_grad_weight:conv2d_gw_partial');
          expect(r.kernels).not.toContain('im2col:dy_t');
          expect(r.kernels).not.toContain('conv2d:conv2d_bwd_bias');
        }
        expectAllClose(r.dx, conv2dBackwardRef(xd, wd, dyd, g).dx, TOL);
      });

      it('raw launchers agree with the reference', async () => {
        const c: Case = { name: 'raw', x: [2, 4, 7, 5], w: [6, 2, 3, 2], o: { stride: [1, 2], padding: [1, 0], groups: 2 } };
        const g = geom(c);
        const [Ho, Wo] = convOutSize(g);
        const xd = uniformData(size(c.x), 61);
        const wd = uniformData(size(c.w), 62);
        const dyd = uniformData(g.N * g.O * Ho * Wo, 63);
        const r = await engine.asyncScope(async () => {
          const x = engine.tensor(xd, c.x);
          const w = engine.tensor(wd, c.w);
          const dy = engine.tensor(dyd, [g.N, g.O, Ho, Wo]);
          return {
            y: await conv2dForwardRaw(x, w, null, on(c.o)).read(),
            dx: await conv2dGradInputRaw(dy, w, c.x, on(c.o)).read(),
            dw: await conv2dGradWeightRaw(x, dy, c.w, on(c.o)).read(),
            db: await conv2dGradBiasRaw(dy).read(),
          };
        });
        const ref = conv2dBackwardRef(xd, wd, dyd, g);
        expectAllClose(r.y, conv2dRef(xd, wd, null, g), TOL);
        expectAllClose(r.dx, ref.dx, TOL);
        expectAllClose(r.dw, ref.dw, TOL);
        expectAllClose(r.db, ref.db, TOL);
      });
    });

    describe(`conv2d grad-weight vs reference [${path}]`, () => {
      for (const c of GRAD_WEIGHT) {
        it(c.name, async () => {
          const g = geom(c);
          const [Ho, Wo] = convOutSize(g);
          const xd = uniformData(size(c.x), 91);
          const dyd = uniformData(g.N * g.O * Ho * Wo, 92);
          const dw = await engine.asyncScope(async () => {
            const x = engine.tensor(xd, c.x);
            const dy = engine.tensor(dyd, [g.N, g.O, Ho, Wo]);
            return conv2dGradWeightRaw(x, dy, c.w, on(c.o)).read();
          });
          // The large case sums 32768 products per element (values up to ~10³).
          expectAllClose(dw, conv2dBackwardRef(xd, new Float64Array(size(c.w)), dyd, g).dw, { atol: 5e-4, rtol: 2e-4 });
        });
      }
    });
  });

describe('conv2d shape errors', () => {
  const t = (s: number[]) => engine.tensor(new Float32Array(size(s)), s);
  it('channel mismatch', () => {
    expect(() => ops.conv2d(t([1, 3, 5, 5]), t([4, 2, 3, 3]), null)).toThrow(ShapeError);
    expect(() => ops.conv2d(t([1, 3, 5, 5]), t([4, 2, 3, 3]), null)).toThrow(/channel mismatch.*\[1, 3, 5, 5\].*\[4, 2, 3, 3\]/);
  });
  it('groups not dividing channels', () => {
    expect(() => ops.conv2d(t([1, 6, 5, 5]), t([4, 2, 3, 3]), null, { groups: 4 })).toThrow(/groups \(4\) does not divide the input channels \(6\)/);
    expect(() => ops.conv2d(t([1, 6, 5, 5]), t([5, 2, 3, 3]), null, { groups: 3 })).toThrow(/groups \(3\) does not divide the output channels \(5\)/);
  });
  it('kernel larger than the padded input', () => {
    expect(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 5, 5]), null)).toThrow(/larger than the padded input 4×4/);
    expect(() => ops.conv2d(t([1, 1, 4, 4]), t([1, 1, 3, 3]), null, { dilation: 2 })).toThrow(ShapeError);
  });
  it('bad ranks, bias and options', () => {
    expect(() => ops.conv2d(t([3, 5, 5]), t([4, 3, 3, 3]), null)).toThrow(/input must be 4-D/);
    expect(() => ops.conv2d(t([1, 3, 5, 5]), t([4, 3, 3, 3]), t([3]))).toThrow(/bias must have shape \[4\]/);
    expect(() => ops.conv2d(t([1, 3, 5, 5]), t([4, 3, 3, 3]), null, { stride: 0 })).toThrow(/stride/);
  });
});

describe('conv2d path choice', () => {
  const kernelsOf = async (f: () => void): Promise<string[]> => {
    engine.startProfiling();
    f();
    return (await engine.stopProfiling()).map((t) => t.kernel);
  };
  const { subgroups8: sg8, timestamps } = adapterFacts(engine);

  it.skipIf(!timestamps)(
    'auto: sg (else im2col) on 8-lane-subgroup adapters for groups = 1, direct otherwise; grouped convs stay direct [needs timestamps]',
    async () => {
      await engine.asyncScope(async () => {
        const x = engine.tensor(uniformData(2 * 4 * 6 * 6, 71), [2, 4, 6, 6]);
        const w1 = engine.tensor(uniformData(8 * 4 * 9, 72), [8, 4, 3, 3]);
        const w2 = engine.tensor(uniformData(8 * 2 * 9, 73), [8, 2, 3, 3]);
        const k1 = await kernelsOf(() => conv2dForwardRaw(x, w1, null, { padding: 1 }));
        expect(k1).toContain(sg8 ? 'conv2d_sg:conv2d_sg' : 'conv2d:conv2d_fwd');
        const k0 = await kernelsOf(() => conv2dForwardRaw(x, w1, null, { padding: 1, impl: { path: 'im2col' } }));
        expect(k0).toContain(sg8 ? 'im2col:im2col' : 'conv2d:conv2d_fwd');
        const k2 = await kernelsOf(() => conv2dForwardRaw(x, w2, null, { padding: 1, groups: 2, impl: { path: 'im2col' } }));
        expect(k2).toContain('conv2d:conv2d_fwd');
        expect(k2).not.toContain('im2col:im2col');
        const k3 = await kernelsOf(() => conv2dForwardRaw(x, w1, null, { padding: 1, impl: { path: 'direct' } }));
        expect(k3).not.toContain('im2col:im2col');
        return null;
      });
    },
  );

  it.skipIf(!timestamps)("grad-weight kernels per path; auto keeps this adapter's choice [needs timestamps]", async () => {
    await engine.asyncScope(async () => {
      const x = engine.tensor(uniformData(2 * 4 * 6 * 6, 74), [2, 4, 6, 6]);
      const dy = engine.tensor(uniformData(2 * 8 * 36, 75), [2, 8, 6, 6]);
      const o = { padding: 1, groups: 2 };
      // Split-K's partial kernel is a 256-invocation workgroup: a device that allows fewer
      // (compatibility mode) falls back to the direct kernel.
      const splitK = engine.maxWorkgroupSize >= 256;
      const ks = await kernelsOf(() => conv2dGradWeightRaw(x, dy, [8, 2, 3, 3], { ...o, impl: { path: 'splitk', splitK: 3 } }));
      if (splitK) expect(ks).toEqual(['conv2d_grad_weight:conv2d_gw_partial', 'conv2d_grad_weight:conv2d_gw_sum']);
      else expect(ks).toContain('conv2d:conv2d_bwd_weight');
      const k1 = await kernelsOf(() => conv2dGradWeightRaw(x, dy, [8, 2, 3, 3], { ...o, impl: { path: 'splitk', splitK: 1 } }));
      if (splitK)
        expect(k1).toEqual(['conv2d_grad_weight:conv2d_gw_partial']); // one chunk writes dW directly
      else expect(k1).toContain('conv2d:conv2d_bwd_weight');
      const kd = await kernelsOf(() => conv2dGradWeightRaw(x, dy, [8, 2, 3, 3], { ...o, impl: { path: 'direct' } }));
      expect(kd).toContain('conv2d:conv2d_bwd_weight');
      const ka = await kernelsOf(() => conv2dGradWeightRaw(x, dy, [8, 2, 3, 3], o));
      // Grouped: lavapipe (8-lane subgroups) keeps the direct kernel, GPUs run split-K.
      expect(ka).toContain(sg8 ? 'conv2d:conv2d_bwd_weight' : 'conv2d_grad_weight:conv2d_gw_partial');
      return null;
    });
  });

  it('split-K: chunk counts from the shape, forced counts, ragged last chunk, deterministic', async () => {
    const big = conv2dShape([100, 16, 32, 32], [16, 16, 3, 3], { padding: 1 }); // the H100 ResNet-18 ×0.25 layer
    const pb = splitKPlan(big);
    expect(pb.K).toBe(102400);
    expect(pb.tiles * pb.S).toBeGreaterThanOrEqual(2048);
    expect(pb.chunk % 16).toBe(0);
    expect((pb.S - 1) * pb.chunk).toBeLessThan(pb.K);
    const small = splitKPlan(conv2dShape([1, 1, 5, 5], [1, 1, 3, 3], { padding: 1 }));
    expect(small.S).toBe(1);
    const c: Case = { name: 'chunks', x: [3, 6, 19, 17], w: [10, 3, 3, 3], o: { padding: 1, groups: 2 } };
    const g = geom(c);
    const [Ho, Wo] = convOutSize(g);
    const xd = uniformData(size(c.x), 95);
    const dyd = uniformData(g.N * g.O * Ho * Wo, 96);
    const ref = conv2dBackwardRef(xd, new Float64Array(size(c.w)), dyd, g).dw;
    await engine.asyncScope(async () => {
      const x = engine.tensor(xd, c.x);
      const dy = engine.tensor(dyd, [g.N, g.O, Ho, Wo]);
      // K = 3·19·17 = 969, chunks of a multiple of 16 values, the last one short.
      // S = 2, 5, 11, 21, 31, 61 (the most: chunks of 16) covers conv2d_gw_sum's
      // unrolled loop (32 chunks per step) and its tail.
      const wants = [2, 5, 12, 26, 40, 1000];
      expect(wants.map((want) => splitKPlan(conv2dShape(c.x, c.w, c.o), Infinity, want).S)).toEqual([2, 5, 11, 21, 31, 61]);
      for (const want of wants) {
        const a = await conv2dGradWeightRaw(x, dy, c.w, { ...c.o, impl: { path: 'splitk', splitK: want } }).read();
        const b = await conv2dGradWeightRaw(x, dy, c.w, { ...c.o, impl: { path: 'splitk', splitK: want } }).read();
        expectAllClose(a, ref, TOL);
        expect(Array.from(b)).toEqual(Array.from(a));
      }
      const before = engine.memory();
      const dw = conv2dGradWeightRaw(x, dy, c.w, { ...c.o, impl: { path: 'splitk', splitK: 4 } });
      expect(engine.memory().liveTensors - before.liveTensors).toBe(1); // partials released
      dw.dispose();
      return null;
    });
  });

  it('im2col temporaries are released in the same call', async () => {
    await engine.asyncScope(async () => {
      const x = engine.tensor(uniformData(2 * 3 * 7 * 7, 81), [2, 3, 7, 7]);
      const w = engine.tensor(uniformData(5 * 3 * 9, 82), [5, 3, 3, 3]);
      const b = engine.tensor(uniformData(5, 83), [5]);
      const dy = engine.tensor(uniformData(2 * 5 * 16, 84), [2, 5, 4, 4]);
      for (const o of [{ padding: 1 }, { stride: 2, padding: 1 }]) {
        const before = engine.memory();
        const outs = [
          conv2dForwardRaw(x, w, b, { ...o, impl: { path: 'im2col' } }),
          conv2dGradInputRaw(o.stride ? dy : engine.tensor(uniformData(2 * 5 * 49, 85), [2, 5, 7, 7]), w, x.shape, { ...o, impl: { path: 'im2col' } }),
        ];
        const after = engine.memory();
        expect(after.liveTensors - before.liveTensors).toBe(o.stride ? 2 : 3);
        for (const t of outs) t.dispose();
      }
      const before = engine.memory();
      const dw = conv2dGradWeightRaw(x, dy, w.shape, { stride: 2, padding: 1, impl: { path: 'im2col' } });
      expect(engine.memory().liveTensors - before.liveTensors).toBe(1);
      dw.dispose();
      return null;
    });
  });
});

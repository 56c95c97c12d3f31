// The subgroup implicit-GEMM conv2d path 'sg' (kernels/conv2d_sg.wgsl,
// src/ops/conv2d-sg.ts): on the shapes it takes (W and Wo multiples of 4,
// KW ≤ 4; the strided grad-input by phases: dy's Wo a multiple of 4) every
// pass must equal the im2col path bit for bit (same products, same order;
// the phased grad-input within tolerance: another order) and the f64
// reference; on the shapes it does not take, a request for it
// runs im2col's rule and is still right. Each case lists which passes run
// the sg kernels; the profiler checks it on 8-lane-subgroup adapters (other
// adapters never run 'sg', so there only the values are checked).
import { describe, expect, it } from 'vitest';
import { ops } from '../../src/index.js';
import { conv2dForwardRaw, conv2dGradInputRaw, conv2dGradWeightRaw, conv2dShape, type Conv2dOptions } from '../../src/ops/conv2d.js';
import type { Conv2dPass } from '../../src/ops/conv2d-path.js';
import { sgSteps } from '../../src/ops/conv2d-sg.js';
import type { Conv2dBuffer } from '../../src/ops/conv2d-steps.js';
import { runDispatchList } from '../../src/ops/dispatch-list.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { conv2dBackwardRef, conv2dRef, convOutSize } from '../../src/reference/conv2d.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { type Conv2dCase, conv2dCaseGeom } from '../helpers/conv2d-case.js';
import { adapterFacts } from '../helpers/adapter.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

/** A case and which of (forward, grad-input, grad-weight) run the sg kernels. */
type Case = Conv2dCase & { sg: [boolean, boolean, boolean] };

const ALL: [boolean, boolean, boolean] = [true, true, true];
const NONE: [boolean, boolean, boolean] = [false, false, false];

const CASES: Case[] = [
  { name: 'batch 1, one channel, 8×8 pad 1 (O = 1: TM 8)', x: [1, 1, 8, 8], w: [1, 1, 3, 3], o: { padding: 1 }, bias: true, sg: ALL },
  { name: '4×4 pad 1, O = 5, 12 quads (not a multiple of 8)', x: [3, 5, 4, 4], w: [5, 5, 3, 3], o: { padding: 1 }, bias: true, sg: ALL },
  { name: 'odd H 5×8, O = 13 (TM 16)', x: [2, 3, 5, 8], w: [13, 3, 3, 3], o: { padding: 1 }, sg: ALL },
  { name: 'O = 20 (TM 24), stride 2 along H only', x: [2, 4, 7, 8], w: [20, 4, 3, 3], o: { stride: [2, 1], padding: 1 }, bias: true, sg: ALL },
  { name: 'O = 40 (two row blocks, the second partial), bias', x: [2, 6, 4, 8], w: [40, 6, 3, 3], o: { padding: 1 }, bias: true, sg: ALL },
  { name: 'N=4 20→36 8×12 (C·KH = 60, 96 quads)', x: [4, 20, 8, 12], w: [36, 20, 3, 3], o: { padding: 1 }, sg: ALL },
  { name: 'stride 2, pad 1, 16 → 8', x: [2, 4, 16, 16], w: [8, 4, 3, 3], o: { stride: 2, padding: 1 }, sg: ALL },
  { name: 'stride 2, pad 1, 8 → 4 (one quad a row), odd H 9', x: [2, 3, 9, 8], w: [6, 3, 3, 3], o: { stride: 2, padding: 1 }, bias: true, sg: ALL },
  { name: '1×1 stride 2, 16 → 8', x: [2, 6, 16, 16], w: [5, 6, 1, 1], o: { stride: 2 }, sg: ALL },
  { name: '1×1 pad 0, 12 wide', x: [2, 6, 3, 12], w: [5, 6, 1, 1], sg: ALL },
  { name: 'dilation 2, pad 2', x: [1, 2, 6, 12], w: [3, 2, 3, 3], o: { padding: 2, dilation: 2 }, sg: ALL },
  { name: 'dilation 2, pad 0 (9×8 → 5×4)', x: [2, 3, 9, 8], w: [4, 3, 3, 3], o: { dilation: 2 }, sg: ALL },
  { name: '1×3 kernel, pad (0, 5): segment past both ends', x: [2, 2, 3, 4], w: [2, 2, 1, 3], o: { padding: [0, 5] }, sg: ALL },
  { name: '2×4 kernel (KW = 4), pad 1, dilation (1, 2)', x: [2, 3, 5, 12], w: [4, 3, 2, 4], o: { padding: 1, dilation: [1, 2] }, bias: true, sg: ALL },
  { name: 'stem-like: 3 channels, 32×32', x: [2, 3, 32, 32], w: [16, 3, 3, 3], o: { padding: 1 }, sg: ALL },
  // Strided grad-input by phases (conv2d_sg_dx): odd dx widths, phases without taps, dilation, KW = 4.
  { name: 'stride 2, odd W 7 → 4 (grad-input: a short last quad)', x: [2, 3, 6, 7], w: [5, 3, 3, 3], o: { stride: 2, padding: 1 }, sg: [true, true, false] },
  { name: 'stride 3, pad 1, 12 → 4', x: [2, 3, 12, 12], w: [4, 3, 3, 3], o: { stride: 3, padding: 1 }, sg: ALL },
  { name: '1×1 stride 3, 12 → 4 (phases with no tap: zeros)', x: [1, 2, 12, 12], w: [3, 2, 1, 1], o: { stride: 3 }, sg: ALL },
  { name: 'stride 2, dilation 2, pad 2, 16 → 8', x: [2, 2, 16, 16], w: [3, 2, 3, 3], o: { stride: 2, padding: 2, dilation: 2 }, sg: ALL },
  { name: 'stride (1, 2), 2×4 kernel, pad 1, 8 → 4', x: [2, 2, 8, 8], w: [3, 2, 2, 4], o: { stride: [1, 2], padding: 1 }, sg: ALL },
  { name: '1×1 pad 1, stride 1 (negative transposed padding), 6 → 8', x: [2, 5, 6, 6], w: [6, 5, 1, 1], o: { padding: 1 }, sg: ALL },
  { name: 'stride 2, O = 20 → C = 18 (dx rows: two blocks of 16), 16 → 8', x: [2, 18, 16, 16], w: [20, 18, 3, 3], o: { stride: 2, padding: 1 }, sg: ALL },
  // Not taken: each pass falls back to im2col's rule.
  { name: 'falls back: groups 2', x: [2, 4, 8, 8], w: [6, 2, 3, 3], o: { padding: 1, groups: 2 }, sg: NONE },
  // Rows off vec4 boundaries (ALIGNED = 0: scalar loads and stores, short last quads); a strided
  // grad-weight over such input rows stays on im2col (faster there).
  { name: 'odd W 7 (unaligned rows)', x: [2, 3, 5, 7], w: [4, 3, 3, 3], o: { padding: 1 }, bias: true, sg: ALL },
  { name: '14×14 (Wo = 14: a short last quad each row)', x: [2, 2, 14, 14], w: [3, 2, 3, 3], o: { padding: 1 }, sg: ALL },
  { name: '7×7, O = 20, bias (HW = 49)', x: [3, 6, 7, 7], w: [20, 6, 3, 3], o: { padding: 1 }, bias: true, sg: ALL },
  { name: 'stride 2, 14 → 7 (unaligned dy for grad-input)', x: [2, 4, 14, 14], w: [6, 4, 3, 3], o: { stride: 2, padding: 1 }, sg: [true, true, false] },
  { name: 'stride 2, 12 → 6 (aligned input, unaligned dy)', x: [2, 3, 12, 12], w: [4, 3, 3, 3], o: { stride: 2, padding: 1 }, bias: true, sg: ALL },
  { name: '1×1 stride 2, 13 → 7', x: [3, 4, 13, 13], w: [5, 4, 1, 1], o: { stride: 2 }, sg: [true, true, false] },
  { name: 'odd W 9, 3×3 dilation 2, pad (2, 1)', x: [2, 2, 7, 9], w: [3, 2, 3, 3], o: { padding: [2, 1], dilation: 2 }, sg: ALL },
  { name: 'falls back: 5×5 kernel (KW > 4)', x: [1, 2, 6, 8], w: [3, 2, 5, 5], o: { padding: 2 }, sg: NONE },
  { name: 'falls back: row segment past 8 vec4s (dilation 13)', x: [1, 1, 4, 32], w: [2, 1, 1, 3], o: { padding: [0, 13], dilation: [1, 13] }, sg: NONE },
];

const PASSES: Conv2dPass[] = ['forward', 'grad-input', 'grad-weight'];
/** The kernel each pass of the sg path runs (the strided grad-input: conv2d_sg_dx). */
const SG_KERNEL: Record<Conv2dPass, string> = {
  forward: 'conv2d_sg:conv2d_sg',
  'grad-input': 'conv2d_sg:conv2d_sg',
  'grad-weight': 'conv2d_sg:conv2d_sg_gw',
};
const TOL = { atol: 1e-4, rtol: 1e-4 };
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const engine = await testEngine();
const facts = adapterFacts(engine);
const sg8 = facts.subgroups8;
const profiled = sg8 && facts.timestamps;

/** One pass with `path` requested: its output and (when profiled) its kernels. */
async function runPass(c: Case, pass: Conv2dPass, path: 'sg' | 'im2col', bias: boolean) {
  const g = conv2dCaseGeom(c);
  const [Ho, Wo] = convOutSize(g);
  const o: Conv2dOptions = { ...c.o, impl: { path } };
  return engine.asyncScope(async () => {
    const x = engine.tensor(uniformData(size(c.x), 1), c.x);
    const w = engine.tensor(uniformData(size(c.w), 2), c.w);
    const dy = engine.tensor(uniformData(g.N * g.O * Ho * Wo, 3), [g.N, g.O, Ho, Wo]);
    const b = bias ? engine.tensor(uniformData(g.O, 4), [g.O]) : null;
    if (profiled) engine.startProfiling();
    const before = engine.memory().liveTensors;
    const y =
      pass === 'forward' ? conv2dForwardRaw(x, w, b, o) : pass === 'grad-input' ? conv2dGradInputRaw(dy, w, c.x, o) : conv2dGradWeightRaw(x, dy, c.w, o);
    const live = engine.memory().liveTensors - before;
    const kernels = profiled ? (await engine.stopProfiling()).map((t) => t.kernel) : [];
    return { out: await y.read(), kernels, live };
  });
}

describe('conv2d sg path: every pass bit-identical to im2col and equal to the reference', () => {
  for (const c of CASES) {
    for (const [i, pass] of PASSES.entries()) {
      const bias = pass === 'forward' && !!c.bias;
      it(`${pass}: ${c.name}`, async () => {
        const g = conv2dCaseGeom(c);
        const sg = await runPass(c, pass, 'sg', bias);
        const ref = await runPass(c, pass, 'im2col', bias);
        // The strided input gradient (by phases) sums in another order than im2col's col2im route.
        const phased = pass === 'grad-input' && !(g.sh === 1 && g.sw === 1 && g.dh * (g.KH - 1) >= g.ph && g.dw * (g.KW - 1) >= g.pw);
        if (profiled) {
          if (c.sg[i]) expect(sg.kernels).toContain(phased ? 'conv2d_sg:conv2d_sg_dx' : SG_KERNEL[pass]);
          else expect(sg.kernels.filter((k) => k.startsWith('conv2d_sg:'))).toEqual([]);
        }
        expect(sg.live).toBe(1); // the packed weight is released in the call
        if (phased) expectAllClose(sg.out, ref.out, { atol: 5e-4, rtol: 1e-4 });
        else expectSameBits(sg.out, ref.out, `${pass} ${c.name}`);
        const [Ho, Wo] = convOutSize(g);
        const xd = uniformData(size(c.x), 1);
        const wd = uniformData(size(c.w), 2);
        const dyd = uniformData(g.N * g.O * Ho * Wo, 3);
        if (pass === 'forward') expectAllClose(sg.out, conv2dRef(xd, wd, bias ? uniformData(g.O, 4) : null, g), TOL);
        else {
          const r = conv2dBackwardRef(xd, wd, dyd, g);
          expectAllClose(sg.out, pass === 'grad-input' ? r.dx : r.dw, { atol: 5e-4, rtol: 1e-4 });
        }
      });
    }
  }
});

// The tile shapes the static choice does not pick for these shapes (rows TM
// 8–32, one or two quads per lane, short runs): each must give the same bits
// as the default (the summation order does not depend on the tiling).
describe('conv2d sg path: every tile shape gives the same bits', () => {
  // (The strided grad-input's conv2d_sg_dx: rows 8 and 16; it clamps larger requests to 16.)
  const TILES: Case[] = [CASES[4]!, CASES[5]!, CASES[6]!, CASES[9]!, CASES[13]!, CASES[21]!];
  for (const c of TILES) {
    for (const pass of PASSES.filter((p, i) => c.sg[i] && p !== 'grad-weight')) {
      it.skipIf(!sg8)(`${pass}: ${c.name} [needs 8-lane subgroups]`, async () => {
        const g = conv2dShape(c.x, c.w, c.o);
        const run = (o: { runQuads?: number; rows?: number }) =>
          engine.asyncScope(async () => {
            const io: Partial<Record<Conv2dBuffer, Tensor>> = {
              x: engine.tensor(uniformData(size(c.x), 1), c.x),
              w: engine.tensor(uniformData(size(c.w), 2), c.w),
              dy: engine.tensor(uniformData(g.N * g.O * g.Ho * g.Wo, 3), [g.N, g.O, g.Ho, g.Wo]),
              out: engine.empty([pass === 'forward' ? g.N * g.O * g.Ho * g.Wo : size(c.x)]),
            };
            const { steps, temps } = sgSteps(g, pass, false, o);
            for (const t of runDispatchList(engine, steps, io, temps, 'test')) t.dispose();
            return io.out!.read();
          });
        const want = await run({});
        for (const runQuads of [1, 2])
          for (const rows of [8, 16, 24, 32]) expectSameBits(await run({ runQuads, rows }), want, `${pass} RQ ${runQuads} TM ${rows}`);
      });
    }
  }
});

describe('conv2d sg path: gradients through the op', () => {
  const GRADCHECK: Conv2dCase[] = [
    { name: '3×3 pad 1, 4×8, bias', x: [2, 2, 4, 8], w: [3, 2, 3, 3], o: { padding: 1 }, bias: true },
    { name: 'stride 2 pad 1, 8×8 → 4×4, bias', x: [1, 2, 8, 8], w: [2, 2, 3, 3], o: { stride: 2, padding: 1 }, bias: true },
    { name: 'dilation 2 pad 2, 4×4', x: [1, 3, 4, 4], w: [2, 3, 3, 3], o: { padding: 2, dilation: 2 }, bias: true },
  ];
  for (const c of GRADCHECK) {
    it(`gradcheck: ${c.name}`, async () => {
      const g = conv2dCaseGeom(c);
      await gradcheck(
        engine,
        [
          { data: uniformData(size(c.x), 31), shape: c.x },
          { data: uniformData(size(c.w), 32), shape: c.w },
          { data: uniformData(c.w[0], 33), shape: [c.w[0]] },
        ],
        ([x, w, b]) => ops.conv2d(x!, w!, b!, { ...c.o, impl: { path: 'sg' } }),
        ([x, w, b]) => conv2dRef(x!, w!, b!, g),
        { atol: 1e-3, rtol: 1e-3 },
      );
    });
  }

  it.skipIf(!profiled)('the backward rule inherits the request: the sg kernels run for dx and dW [needs 8-lane subgroups and timestamps]', async () => {
    const kernels = await engine.asyncScope(async () => {
      const x = engine.tensor(uniformData(2 * 3 * 8 * 8, 41), [2, 3, 8, 8], { requiresGrad: true });
      const w = engine.tensor(uniformData(4 * 3 * 9, 42), [4, 3, 3, 3], { requiresGrad: true });
      const y = ops.conv2d(x, w, null, { padding: 1, impl: { path: 'sg' } });
      engine.startProfiling();
      y.backward(engine.tensor(uniformData(2 * 4 * 64, 43), y.shape));
      const k = (await engine.stopProfiling()).map((t) => t.kernel);
      x.grad?.dispose();
      w.grad?.dispose();
      return k;
    });
    expect(kernels).toContain('conv2d_sg:conv2d_sg');
    expect(kernels).toContain('conv2d_sg:conv2d_sg_gw');
    expect(kernels.filter((k) => k.startsWith('im2col:') || k.startsWith('matmul'))).toEqual([]);
  });
});

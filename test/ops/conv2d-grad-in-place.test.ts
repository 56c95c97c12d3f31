// conv2d's weight and bias gradients added in place into the parameters'
// `.grad` (src/autograd/leaf-grad.ts, src/ops/conv2d.ts): for every path
// forced, the bits of the gradient + a separate acc_add (the unfused kernel
// forms), and only the acc_add dispatches disappear.
import { describe, expect, it } from 'vitest';
import { type Engine, ops, type Tensor } from '../../src/index.js';
import { CONV2D_TUNING, type Conv2dOptions, conv2dShape } from '../../src/ops/conv2d.js';
import { igemmCandidates, igemmConstants } from '../../src/ops/conv2d-igemm.js';
import { conv2dAdapterFacts } from '../../src/ops/conv2d-path.js';
import { conv2dSteps } from '../../src/ops/conv2d-tuning.js';
import { type DispatchStep, withAccumulatedOutput } from '../../src/ops/dispatch-list.js';
import { expectInPlaceGradsMatch, type LeafSpec } from '../helpers/grad-in-place.js';
import { testEngine } from '../helpers/engine.js';

const engine = await testEngine();
const sg8 = conv2dAdapterFacts(engine).subgroup8;
const splitK = engine.maxWorkgroupSize >= 256;

interface Case {
  name: string;
  x: number[];
  w: number[];
  o: Conv2dOptions;
  bias: boolean;
}

// Stride 1 and 2, a grouped conv, im2col's dW written by the GEMM (C·KH·KW a
// multiple of 4) or cropped by repad (27 columns), sg's rows off vec4 boundaries.
const CASES: Case[] = [
  { name: 'stride 1, 3×3 pad 1, C·KK 36, bias', x: [4, 4, 8, 8], w: [8, 4, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'stride 2, 3×3 pad 1, C·KK 27, no bias', x: [2, 3, 8, 8], w: [6, 3, 3, 3], o: { stride: 2, padding: 1 }, bias: false },
  { name: 'groups 2, bias', x: [2, 4, 6, 6], w: [6, 2, 3, 3], o: { padding: 1, groups: 2 }, bias: true },
  { name: '7×7 rows (unaligned), no bias', x: [2, 4, 7, 7], w: [4, 4, 3, 3], o: { padding: 1 }, bias: false },
  { name: '1×1 stride 2, bias', x: [2, 8, 8, 8], w: [8, 8, 1, 1], o: { stride: 2 }, bias: true },
];

interface Path {
  name: string;
  impl: NonNullable<Conv2dOptions['impl']>;
  /** Label prefixes of the grad-weight kernels the in-place run must have dispatched. */
  gw: (c: Case) => string[];
}

const groups1 = (c: Case) => (c.o.groups ?? 1) === 1;
const DIRECT_GW = ['conv2d:conv2d_bwd_weight'];
/** im2col's dW: its kernels, and repad where C·KH·KW is not a multiple of 4 (the GEMM then writes a padded dW). */
const im2colGw = (c: Case) => (groups1(c) ? ['im2col:', ...((c.w[1]! * c.w[2]! * c.w[3]!) % 4 ? ['im2col:repad'] : [])] : DIRECT_GW);
const PATHS: Path[] = [
  // sg on 8-lane-subgroup adapters, else what im2col gives.
  { name: 'sg', impl: { path: 'sg' }, gw: (c) => (groups1(c) && sg8 ? ['conv2d_sg:conv2d_sg_gw'] : im2colGw(c)) },
  { name: 'im2col', impl: { path: 'im2col' }, gw: im2colGw },
  { name: 'direct', impl: { path: 'direct' }, gw: () => DIRECT_GW },
  // split-K where the device allows its 256-invocation workgroups, else the direct kernel it falls back to.
  { name: 'splitk, 1 chunk', impl: { path: 'splitk', splitK: 1 }, gw: () => (splitK ? ['conv2d_grad_weight:conv2d_gw_partial'] : DIRECT_GW) },
  {
    name: 'splitk, 3 chunks',
    impl: { path: 'splitk', splitK: 3 },
    gw: () => (splitK ? ['conv2d_grad_weight:conv2d_gw_partial', 'conv2d_grad_weight:conv2d_gw_sum'] : DIRECT_GW),
  },
  {
    name: 'igemm 32×32×16 4×4, one chunk',
    impl: { config: { variant: 'igemm', constants: igemmConstants([32, 32, 16, 4, 4], 1) } },
    gw: () => ['conv2d_igemm:conv2d_igemm_grad_weight'],
  },
  {
    // Split in 4 chunks on the first case (N·Ho·Wo 256), one on the others.
    name: 'igemm 32×32×16 4×4, split',
    impl: { config: { variant: 'igemm', constants: igemmConstants([32, 32, 16, 4, 4], 4096) } },
    gw: (c) => ['conv2d_igemm:conv2d_igemm_grad_weight', ...(c.x[0] === 4 ? ['conv2d_grad_weight:conv2d_gw_sum'] : [])],
  },
];

/** Runs fn, returning the labels ('family:entry') of its dispatches. */
async function labelsOf<T>(e: Engine, fn: () => Promise<T>): Promise<{ result: T; labels: string[] }> {
  const labels: string[] = [];
  const dispatch = e.ctx.dispatchChecked;
  e.ctx.dispatchChecked = (d) => {
    labels.push(d.label);
    dispatch.call(e.ctx, d);
  };
  try {
    return { result: await fn(), labels };
  } finally {
    e.ctx.dispatchChecked = dispatch;
  }
}

describe('conv2d: weight and bias gradients accumulated in place, bit for bit the gradient + acc_add', () => {
  for (const path of PATHS) {
    for (const c of CASES) {
      it(`${path.name}: ${c.name}`, async () => {
        const o: Conv2dOptions = { ...c.o, impl: path.impl };
        const conv = (x: Tensor, w: Tensor, b: Tensor | null) => ops.conv2d(x, w, b, o);
        for (const grad of [true, false]) {
          const specs: LeafSpec[] = [{ shape: c.x, grad: true }, { shape: c.w, grad }, ...(c.bias ? [{ shape: [c.w[0]!], grad }] : [])];
          const { result: r, labels } = await labelsOf(engine, () =>
            expectInPlaceGradsMatch(engine, specs, ([x, w, b]) => conv(x!, w!, b ?? null), `${path.name} ${c.name} .grad ${grad ? 'existing' : 'none'}`),
          );
          for (const k of path.gw(c))
            expect(
              labels.some((l) => l.startsWith(k)),
              `${k} ran`,
            ).toBe(true);
          // Only acc_adds disappear: the weight's (and the bias's) once they have a .grad; x keeps its own.
          const saved = r.old.accAdds.map((n, i) => n - r.inPlace.accAdds[i]!);
          const per = c.bias ? 2 : 1; // one acc_add (or two: vec4 body and tail) per parameter
          if (grad)
            expect(
              saved.every((s) => s >= per && s <= 2 * per),
              `acc_add saved ${saved}`,
            ).toBe(true);
          else expect(saved[0] === 0 && saved[1]! >= per && saved[1]! <= 2 * per, `acc_add saved ${saved}`).toBe(true);
          expect(r.old.backward.map((n, i) => n - r.old.accAdds[i]!)).toEqual(r.inPlace.backward.map((n, i) => n - r.inPlace.accAdds[i]!));
        }
        // One weight (and bias) used by two convs: two in-place adds, in the autograd's order.
        await expectInPlaceGradsMatch(
          engine,
          [
            { shape: c.x, grad: false, frozen: true },
            { shape: c.x, grad: false, frozen: true },
            { shape: c.w, grad: true },
            { shape: [c.w[0]!], grad: true },
          ],
          ([x, x2, w, b]) => ops.add(conv(x!, w!, c.bias ? b! : null), conv(x2!, w!, c.bias ? b! : null)),
          `${path.name} ${c.name} used twice`,
          2,
        );
      });
    }
  }

  it('an empty batch: zeros added as the separate add would', async () => {
    for (const grad of [true, false]) {
      await expectInPlaceGradsMatch(
        engine,
        [
          { shape: [0, 3, 6, 6], grad: false, frozen: true },
          { shape: [4, 3, 3, 3], grad },
          { shape: [4], grad },
        ],
        ([x, w, b]) => ops.conv2d(x!, w!, b!, { padding: 1 }),
        `empty batch .grad ${grad ? 'existing' : 'none'}`,
      );
    }
  });
});

describe('conv2d grad-weight: every configuration the tuner can choose writes dW in one dispatch', () => {
  // So a tuned configuration stays valid with accumulation on (the op adds the flag, the tuner times the plain store).
  for (const c of CASES) {
    it(c.name, () => {
      const g = conv2dShape(c.x, c.w, c.o);
      const p = { pass: 'grad-weight' as const, g, bias: false };
      const named = (['direct', 'im2col', 'splitk', 'sg'] as const).map((variant) => ({ variant, constants: {} }));
      const igemm = [false, true].flatMap((cpu) => igemmCandidates(g, 'grad-weight', cpu)).map((constants) => ({ variant: 'igemm', constants }));
      // Those valid here (GPU and CPU tile lists alike), as the tuner filters its candidates.
      const configs = [...named, ...igemm].filter((cfg) => CONV2D_TUNING.valid(engine, p, cfg));
      expect(configs.length).toBeGreaterThan(3);
      for (const cfg of configs) {
        for (const splitK of cfg.variant === 'splitk' ? [undefined, 1, 3] : [undefined]) {
          const { steps } = conv2dSteps(engine, p, cfg, splitK);
          const flagged = withAccumulatedOutput(steps, 'out', JSON.stringify(cfg)).filter((s) =>
            s.kind === 'matmul' ? s.accumulate : s.constants?.['ACCUMULATE'],
          );
          expect(flagged.length).toBe(1);
        }
      }
    });
  }
});

describe('withAccumulatedOutput (dispatch lists)', () => {
  type B = 'x' | 'part' | 'out';
  const kernel = (bind: Record<string, B>): DispatchStep<B> => ({ kind: 'dispatch', family: 'f', entry: 'e', bind, params: {}, workgroups: 1 });
  it('flags the one step that writes the output: a kernel by ACCUMULATE, a GEMM by its epilogue', () => {
    const list = withAccumulatedOutput<B>([kernel({ src: 'x', dst: 'part' }), kernel({ part: 'part', dst: 'out' })], 'out', 't');
    expect(list[0]!.kind === 'dispatch' && list[0]!.constants).toBeUndefined();
    expect(list[1]!.kind === 'dispatch' && list[1]!.constants).toEqual({ ACCUMULATE: 1 });
    const gemm: DispatchStep<B> = { kind: 'matmul', problem: {} as never, a: 'x', b: 'part', c: 'out' };
    expect(withAccumulatedOutput<B>([gemm], 'out', 't')[0]).toEqual({ ...gemm, accumulate: true });
  });
  it('throws unless exactly one step binds the output, and for a GEMM that only reads it', () => {
    expect(() => withAccumulatedOutput<B>([kernel({ src: 'x', dst: 'part' })], 'out', 't')).toThrow(/bound by 0/);
    expect(() => withAccumulatedOutput<B>([kernel({ dst: 'out' }), kernel({ src: 'out', dst: 'out' })], 'out', 't')).toThrow(/bound by 2/);
    expect(() => withAccumulatedOutput<B>([{ kind: 'matmul', problem: {} as never, a: 'out', b: 'x', c: 'part' }], 'out', 't')).toThrow(/reads/);
  });
});

// The implicit-GEMM conv2d kernels (kernels/conv2d_igemm.wgsl) and the conv2d
// tuning family: every igemm configuration forced on awkward shapes against
// the f64 reference, gradchecks through the backward rule, determinism of the
// split grad-weight, and the family's contract (valid candidates, the static
// rule = the path rule, a tuned choice that matches).
import { describe, expect, it } from 'vitest';
import { createEngine, memoryTuneStore, ops, tunerOf } from '../../src/index.js';
import {
  CONV2D_TUNING,
  type Conv2dOptions,
  type Conv2dProblem,
  conv2dForwardRaw,
  conv2dGradInputRaw,
  conv2dGradWeightRaw,
  conv2dShape,
} from '../../src/ops/conv2d.js';
import { IGEMM_SPLITS, IGEMM_TILES, type IgemmConstants, igemmCandidates, igemmConstants, igemmFits } from '../../src/ops/conv2d-igemm.js';
import { conv2dAdapterFacts, type Conv2dPass, staticConv2dConfig } from '../../src/ops/conv2d-path.js';
import { conv2dChoice, describeConv2dConfig } from '../../src/ops/conv2d-tuning.js';
import { conv2dBackwardRef, conv2dRef } from '../../src/reference/conv2d.js';
import type { Engine } from '../../src/engine.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { allcloseReport, expectAllClose, uniformData } from '../helpers/allclose.js';
import { type Conv2dCase, conv2dCaseGeom } from '../helpers/conv2d-case.js';
import { adapterFacts } from '../helpers/adapter.js';
import { testEngine } from '../helpers/engine.js';
import { gradcheck } from '../helpers/gradcheck.js';

type Case = Conv2dCase;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const PASSES: Conv2dPass[] = ['forward', 'grad-input', 'grad-weight'];
// f32 sums of up to a few hundred O(1) products (the large-K cases: a few thousand).
const TOL = { atol: 1e-4, rtol: 1e-4 };

// Each exercises something the kernels treat specially; none is a multiple of any tile.
const CASES: Case[] = [
  { name: 'odd 7×5, stride 2, pad 1, O = 5, bias', x: [2, 3, 7, 5], w: [5, 3, 3, 3], o: { stride: 2, padding: 1 }, bias: true },
  { name: 'batch 1, one channel, 3×3 pad 1', x: [1, 1, 5, 5], w: [1, 1, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'grouped 3×3, 4 groups, stride 2', x: [2, 16, 8, 8], w: [16, 4, 3, 3], o: { stride: 2, padding: 1, groups: 4 } },
  { name: '1×1 stride 2 (Ho·Wo = 16: vec4 dy rows)', x: [2, 6, 7, 7], w: [10, 6, 1, 1], o: { stride: 2 } },
  { name: '1×1 stride 3: grad-input phases without taps', x: [1, 2, 7, 8], w: [3, 2, 1, 1], o: { stride: 3 } },
  { name: 'depthwise, dilation 2, pad 2', x: [2, 5, 9, 10], w: [5, 1, 3, 3], o: { padding: 2, dilation: 2, groups: 5 }, bias: true },
  { name: 'asymmetric stride/pad/dilation, 3×2 kernel', x: [1, 2, 12, 11], w: [3, 2, 3, 2], o: { stride: [2, 1], padding: [1, 2], dilation: [1, 2] } },
  { name: '1×1 pad 1 (negative transposed padding)', x: [2, 5, 6, 7], w: [6, 5, 1, 1], o: { padding: 1 } },
  { name: 'stride 2 dilation 2 pad 2 (taps of a phase 2 apart)', x: [2, 3, 9, 8], w: [4, 3, 3, 3], o: { stride: 2, padding: 2, dilation: 2 } },
  { name: 'CK = 36 (vec4 weight rows), 9×9', x: [3, 4, 9, 9], w: [20, 4, 3, 3], o: { padding: 1 }, bias: true },
  { name: 'large K: CK = 576, 7×7, O = 40', x: [2, 64, 7, 7], w: [40, 64, 3, 3], o: { padding: 1 } },
  { name: 'long reduction: N·Ho·Wo = 2048', x: [8, 4, 16, 16], w: [12, 4, 3, 3], o: { padding: 1 } },
];

const geom = conv2dCaseGeom;

const engine = await testEngine();
const { timestamps } = adapterFacts(engine);

/** Inputs and f64 references of a case (seeded by its index). */
function data(c: Case, seed: number) {
  const g = conv2dShape(c.x, c.w, c.o);
  const xd = uniformData(size(c.x), seed);
  const wd = uniformData(size(c.w), seed + 1);
  const bd = c.bias ? uniformData(c.w[0], seed + 2) : null;
  const dyd = uniformData(g.N * g.O * g.Ho * g.Wo, seed + 3);
  const back = conv2dBackwardRef(xd, wd, dyd, geom(c));
  return { g, xd, wd, bd, dyd, ref: { forward: conv2dRef(xd, wd, bd, geom(c)), 'grad-input': back.dx, 'grad-weight': back.dw } };
}

/** One pass of a case with a forced configuration. */
async function runPass(e: Engine, c: Case, d: ReturnType<typeof data>, pass: Conv2dPass, config: TuneConfig, splitK?: number): Promise<Float32Array> {
  return e.asyncScope(async () => {
    const o: Conv2dOptions = { ...c.o, impl: { config, ...(splitK ? { splitK } : {}) } };
    const x = e.tensor(d.xd, c.x);
    const w = e.tensor(d.wd, c.w);
    const dy = e.tensor(d.dyd, [d.g.N, d.g.O, d.g.Ho, d.g.Wo]);
    if (pass === 'forward') return conv2dForwardRaw(x, w, d.bd ? e.tensor(d.bd, [c.w[0]]) : null, o).read();
    if (pass === 'grad-input') return conv2dGradInputRaw(dy, w, c.x, o).read();
    return conv2dGradWeightRaw(x, dy, c.w, o).read();
  });
}

/** Every igemm configuration either candidate list offers (all tiles, all splits), valid for this problem here. */
function allIgemm(g: ReturnType<typeof conv2dShape>, pass: Conv2dPass): IgemmConstants[] {
  const splits = pass === 'grad-weight' ? IGEMM_SPLITS : [undefined];
  return IGEMM_TILES.flatMap((t) => splits.map((s) => igemmConstants(t, s))).filter((c) => igemmFits(g, pass, c, engine.limits));
}

const igemm = (constants: IgemmConstants): TuneConfig => ({ variant: 'igemm', constants });

describe('implicit-GEMM conv2d against the f64 reference', () => {
  // Every configuration of both candidate lists (GPU and CPU adapters) on the
  // first case: odd sizes, stride 2, bias, 5 output channels — no tile multiple.
  for (const pass of PASSES) {
    it(`${pass}: every configuration, ${CASES[0]!.name}`, async () => {
      const c = CASES[0]!;
      const d = data(c, 100);
      const all = allIgemm(d.g, pass);
      // Every tile, but those whose workgroup is larger than the device allows (compatibility mode: 128).
      const tiles = IGEMM_TILES.filter((t) => igemmConstants(t).WG! <= engine.maxWorkgroupSize);
      expect(all.length).toBe(tiles.length * (pass === 'grad-weight' ? IGEMM_SPLITS.length : 1));
      for (const cfg of all) {
        const got = await runPass(engine, c, d, pass, igemm(cfg));
        expect(allcloseReport(got, d.ref[pass], TOL), describeConv2dConfig(igemm(cfg))).toBeNull();
      }
    });
  }

  // The other awkward cases: the configuration 'igemm' asks for on this
  // adapter (its first candidate) and a GPU tile of several k-steps and
  // workgroups (a pipeline per set of flags: each compile costs seconds on lavapipe).
  const GPU_TILE: IgemmConstants = { BM: 64, BN: 64, BK: 16, TM: 8, TN: 8, WG: 64 };
  for (const [i, c] of CASES.entries()) {
    if (i === 0) continue;
    for (const pass of PASSES) {
      it(`${pass}: ${c.name}`, async () => {
        const d = data(c, 100 + 10 * i);
        const first = igemmCandidates(d.g, pass, engine.info.isFallbackAdapter).find((x) => igemmFits(d.g, pass, x, engine.limits));
        const gpu = pass === 'grad-weight' ? { ...GPU_TILE, SPLIT: 4096 } : GPU_TILE;
        const configs = [first, igemmFits(d.g, pass, gpu, engine.limits) ? gpu : undefined].filter((x) => x !== undefined);
        expect(configs.length).toBeGreaterThan(0);
        for (const cfg of configs) {
          const got = await runPass(engine, c, d, pass, igemm(cfg));
          expect(allcloseReport(got, d.ref[pass], TOL), describeConv2dConfig(igemm(cfg))).toBeNull();
        }
      });
    }
  }

  it('grad-weight: the split reduction is deterministic and its partials are released', async () => {
    const c = CASES[11]!;
    const d = data(c, 300);
    const cfg = igemm({ BM: 16, BN: 64, BK: 16, TM: 2, TN: 8, WG: 64, SPLIT: 4096 });
    expect(cfg.constants['SPLIT']).toBe(4096);
    expect(igemmFits(d.g, 'grad-weight', cfg.constants, engine.limits)).toBe(true);
    const a = await runPass(engine, c, d, 'grad-weight', cfg);
    const b = await runPass(engine, c, d, 'grad-weight', cfg);
    expect(Array.from(b)).toEqual(Array.from(a));
    expectAllClose(a, d.ref['grad-weight'], { atol: 2e-4, rtol: 1e-4 });
    await engine.asyncScope(async () => {
      const x = engine.tensor(d.xd, c.x);
      const dy = engine.tensor(d.dyd, [d.g.N, d.g.O, d.g.Ho, d.g.Wo]);
      engine.startProfiling();
      const before = engine.memory().liveTensors;
      const dw = conv2dGradWeightRaw(x, dy, c.w, { ...c.o, impl: { config: cfg } });
      expect(engine.memory().liveTensors - before).toBe(1);
      const kernels = (await engine.stopProfiling()).map((t) => t.kernel);
      if (engine.features.has('timestamp-query')) expect(kernels).toEqual(['conv2d_igemm:conv2d_igemm_grad_weight', 'conv2d_grad_weight:conv2d_gw_sum']);
      dw.dispose();
      return null;
    });
  });
});

describe('implicit-GEMM conv2d: gradients through the backward rule', () => {
  const GRADCHECK: Case[] = [
    { name: '3×3 pad 1 with bias', x: [2, 2, 4, 5], w: [3, 2, 3, 3], o: { padding: 1 }, bias: true },
    { name: 'stride 2, dilation 2, pad 2', x: [1, 2, 7, 6], w: [2, 2, 3, 3], o: { stride: 2, padding: 2, dilation: 2 }, bias: true },
    { name: 'groups 2, 1×3', x: [2, 4, 3, 5], w: [2, 2, 1, 3], o: { padding: [0, 1], groups: 2 }, bias: true },
    { name: 'depthwise stride 2 pad 0', x: [1, 3, 5, 6], w: [3, 1, 2, 2], o: { stride: 2, groups: 3 }, bias: true },
  ];
  for (const c of GRADCHECK) {
    it(`gradcheck: ${c.name}`, async () => {
      const g = geom(c);
      const o: Conv2dOptions = { ...c.o, impl: { path: 'igemm' } };
      await gradcheck(
        engine,
        [
          { data: uniformData(size(c.x), 31), shape: c.x },
          { data: uniformData(size(c.w), 32), shape: c.w },
          { data: uniformData(c.w[0], 33), shape: [c.w[0]] },
        ],
        ([x, w, b]) => ops.conv2d(x!, w!, b!, o),
        ([x, w, b]) => conv2dRef(x!, w!, b!, g),
        { atol: 1e-3, rtol: 1e-3 },
      );
    });
  }

  it.skipIf(!timestamps)("the backward rule runs the igemm kernels when the forward asked for 'igemm' [needs timestamps]", async () => {
    const kernels = await engine.asyncScope(async () => {
      const x = engine.tensor(uniformData(2 * 3 * 6 * 6, 41), [2, 3, 6, 6], { requiresGrad: true });
      const w = engine.tensor(uniformData(4 * 3 * 9, 42), [4, 3, 3, 3], { requiresGrad: true });
      const y = ops.conv2d(x, w, null, { padding: 1, impl: { path: 'igemm' } });
      engine.startProfiling();
      y.backward(engine.tensor(uniformData(y.size, 43), y.shape));
      const k = (await engine.stopProfiling()).map((t) => t.kernel);
      x.grad?.dispose();
      w.grad?.dispose();
      return k;
    });
    expect(kernels).toContain('conv2d_igemm:conv2d_igemm_grad_input');
    expect(kernels).toContain('conv2d_igemm:conv2d_igemm_grad_weight');
  });
});

describe('conv2d tuning family', () => {
  const problem = (c: Case, pass: Conv2dPass): Conv2dProblem => ({ pass, g: conv2dShape(c.x, c.w, c.o), bias: pass === 'forward' && !!c.bias });

  it('static rule = staticConv2dConfig (on this CPU adapter: the path rule); the key names the pass, shapes and every option', () => {
    for (const c of CASES.slice(0, 4)) {
      for (const pass of PASSES) {
        const p = problem(c, pass);
        expect(CONV2D_TUNING.staticConfig(engine, p)).toEqual(staticConv2dConfig(p.g, pass, conv2dAdapterFacts(engine)));
      }
    }
    const base: Case = { name: 'k', x: [2, 4, 9, 9], w: [8, 4, 3, 3], o: { padding: 1 } };
    const keys = [
      base.o,
      { ...base.o, stride: 2 },
      { ...base.o, dilation: 2 },
      { padding: 2 },
      { padding: 1, groups: 2 },
      { padding: [1, 0] as [number, number] },
    ].map((o) => CONV2D_TUNING.key(problem({ ...base, w: o?.groups ? [8, 2, 3, 3] : base.w, o }, 'forward')));
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(PASSES.map((pass) => CONV2D_TUNING.key(problem(base, pass)))).size).toBe(3);
    expect(CONV2D_TUNING.key(problem(base, 'forward'))).not.toBe(CONV2D_TUNING.key(problem({ ...base, bias: true }, 'forward')));
  });

  it("tune mode 'off' runs the static rule", async () => {
    const e = await createEngine({ tune: 'off', tuneStore: memoryTuneStore() });
    try {
      const p = problem(CASES[0]!, 'grad-weight');
      expect(conv2dChoice(e, p)).toEqual({ config: CONV2D_TUNING.staticConfig(e, p), source: 'static' });
    } finally {
      e.destroy();
    }
  });

  it('every candidate is valid, and every candidate computes the reference', async () => {
    const c = CASES[0]!;
    const d = data(c, 400);
    for (const pass of PASSES) {
      const p = problem(c, pass);
      const cands = CONV2D_TUNING.candidates(engine, p);
      expect(cands.map((x) => x.variant)).toContain('igemm');
      expect(cands.map((x) => x.variant)).toContain('direct');
      expect(cands.some((x) => CONV2D_TUNING.describe(x) === CONV2D_TUNING.describe(CONV2D_TUNING.staticConfig(engine, p)))).toBe(true);
      for (const cfg of cands) {
        expect(CONV2D_TUNING.valid(engine, p, cfg)).toBe(true);
        expectAllClose(await runPass(engine, c, d, pass, cfg), d.ref[pass], TOL);
      }
      // Malformed or unknown configurations are not valid.
      expect(CONV2D_TUNING.valid(engine, p, { variant: 'igemm', constants: { BM: 64, BN: 64, BK: 16, TM: 8, TN: 8, WG: 32 } })).toBe(false);
      expect(CONV2D_TUNING.valid(engine, p, { variant: 'direct', constants: { X: 1 } })).toBe(false);
      expect(CONV2D_TUNING.valid(engine, p, { variant: 'bogus', constants: {} })).toBe(false);
    }
    // Grouped: no im2col; split-K only for grad-weight.
    const grouped = problem(CASES[2]!, 'forward');
    expect(CONV2D_TUNING.candidates(engine, grouped).map((x) => x.variant)).not.toContain('im2col');
    expect(CONV2D_TUNING.candidates(engine, grouped).map((x) => x.variant)).not.toContain('splitk');
  });

  it('tuning measures every candidate, rejects none, and the op then runs the winner with matching values', async () => {
    const e = await createEngine({ tune: 'full', tuneStore: memoryTuneStore() });
    try {
      const t = tunerOf(e);
      t.budgetMs = 60_000;
      // tune() measures whatever the mode; 'cached' keeps the op's calls from scheduling GEMM tunings.
      t.mode = 'cached';
      const c = CASES[0]!; // the every-configuration case: its pipelines are compiled (and cached by the driver) already
      const d = data(c, 500);
      for (const pass of PASSES) {
        const p = problem(c, pass);
        const rec = await t.tune(CONV2D_TUNING, p);
        expect(rec, pass).not.toBeNull();
        expect(rec!.tried).toBe(CONV2D_TUNING.candidates(e, p).length);
        expect(rec!.static).toBe(CONV2D_TUNING.describe(CONV2D_TUNING.staticConfig(e, p)));
        const choice = conv2dChoice(e, p);
        expect(choice).toEqual({ config: rec!.config, source: 'tuned' });
        expectAllClose(await runPass(e, c, d, pass, choice.config), d.ref[pass], TOL);
      }
      expect(t.stats.rejected).toBe(0);
      expect(t.stats.errors).toBe(0);
    } finally {
      e.destroy();
    }
  });

  it("'full' mode: a conv2d call schedules its tuning, a captured one does not", async () => {
    const e = await createEngine({ tune: 'full', tuneStore: memoryTuneStore() });
    try {
      const t = tunerOf(e);
      t.budgetMs = 0;
      const x = e.tensor(uniformData(2 * 3 * 6 * 6, 61), [2, 3, 6, 6]);
      const w = e.tensor(uniformData(4 * 3 * 9, 62), [4, 3, 3, 3]);
      const p: Conv2dProblem = { pass: 'forward', g: conv2dShape(x.shape, w.shape, { padding: 1 }), bias: false };
      e.capture(() => conv2dForwardRaw(x, w, null, { padding: 1 }).dispose());
      expect(t.pending).toBe(0);
      // Eager: the conv2d shape is scheduled (and, when its static path is im2col, the GEMM's matmul shape too).
      conv2dForwardRaw(x, w, null, { padding: 1 }).dispose();
      expect(t.pending).toBeGreaterThanOrEqual(1);
      await t.idle();
      expect(t.cached(CONV2D_TUNING, p)).not.toBeNull();
    } finally {
      e.destroy();
    }
  });

  it.skipIf(!timestamps)("the engine-level override: tunerOf(engine).force('conv2d', 'igemm') runs igemm for every pass [needs timestamps]", async () => {
    const prev = tunerOf(engine).force('conv2d', 'igemm');
    try {
      const kernels = await engine.asyncScope(async () => {
        const x = engine.tensor(uniformData(2 * 3 * 6 * 6, 71), [2, 3, 6, 6], { requiresGrad: true });
        const w = engine.tensor(uniformData(4 * 3 * 9, 72), [4, 3, 3, 3], { requiresGrad: true });
        engine.startProfiling();
        const y = ops.conv2d(x, w, null, { padding: 1 });
        y.backward(engine.tensor(uniformData(y.size, 73), y.shape));
        const k = (await engine.stopProfiling()).map((s) => s.kernel);
        x.grad?.dispose();
        w.grad?.dispose();
        return k;
      });
      for (const entry of ['fwd', 'grad_input', 'grad_weight']) expect(kernels).toContain(`conv2d_igemm:conv2d_igemm_${entry}`);
    } finally {
      tunerOf(engine).force('conv2d', prev);
    }
  });
});

// The split-K matmul (variant 'splitk': matmul_tiled_v4.wgsl over chunks of k into parts, then
// its matmul_splitk_sum entry sums them in order) at the shapes it is for — a ViT's weight gradient, Xᵀ·dY
// with K = batch·tokens far larger than the output — with every configuration the tuner would
// time: vs the f64 reference and within the tuner's tolerance of the general kernel, bias + ReLU
// and batches, gradients added in place, the same bits on every run, and its place in a GPU's
// candidate list. (The forced-variant suite in matmul.test.ts covers awkward shapes.)
import { describe, expect, it } from 'vitest';
import { memoryTuneStore, ops, tunerOf } from '../../src/index.js';
import { MATMUL_TILES, MATMUL_TUNING, MATMUL_VARIANT_RTOL, type MatmulProblem, matmulChoice, SPLITK_TILES, splitkConfigs } from '../../src/ops/matmul.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { Tuner } from '../../src/tune/tuner.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { expectAllClose, expectSameBits, uniformData } from '../helpers/allclose.js';
import { ownEngine, testEngine } from '../helpers/engine.js';

const e = await testEngine();

const problem = (M: number, N: number, K: number, o: Partial<MatmulProblem> = {}): MatmulProblem => ({
  M,
  N,
  K,
  batch: 1,
  aBatched: false,
  bBatched: false,
  transA: true,
  transB: false,
  bias: false,
  act: 'none',
  ...o,
});

describe('split-K matmul', () => {
  // dW = Xᵀ·dY of a 48 → 64 linear layer over 1 000 tokens (not a multiple of any chunk), and a
  // batch of 2 with bias + ReLU (odd M: the layout needs only M % 4 for Aᵀ, so 44).
  const cases = [
    { M: 48, N: 64, K: 1000, batch: 1, epi: false },
    { M: 44, N: 36, K: 772, batch: 2, epi: true },
  ];
  for (const c of cases) {
    it(`every candidate on [${c.M}×${c.K}]ᵀ·[${c.K}×${c.N}], batch ${c.batch}${c.epi ? ', bias + ReLU' : ''}: vs f64, vs general, same bits twice`, async () => {
      const p = problem(c.M, c.N, c.K, { batch: c.batch, aBatched: c.batch > 1, bBatched: c.batch > 1, bias: c.epi, act: c.epi ? 'relu' : 'none' });
      const configs = splitkConfigs(p).filter((cfg) => MATMUL_TUNING.valid(e, p, cfg));
      expect(configs.length).toBeGreaterThanOrEqual(3);
      const ad = uniformData(c.batch * c.K * c.M, 11);
      const bd = uniformData(c.batch * c.K * c.N, 12);
      const bias = uniformData(c.N, 13);
      const want = matmulRef(ad, bd, {
        M: c.M,
        N: c.N,
        K: c.K,
        batch: c.batch,
        aBatched: c.batch > 1,
        bBatched: c.batch > 1,
        transA: true,
        ...(c.epi ? { bias, activation: 'relu' as const } : {}),
      });
      await e.asyncScope(async () => {
        const a = e.tensor(ad, c.batch > 1 ? [c.batch, c.K, c.M] : [c.K, c.M]);
        const b = e.tensor(bd, c.batch > 1 ? [c.batch, c.K, c.N] : [c.K, c.N]);
        const o = { transA: true, ...(c.epi ? { bias: e.tensor(bias, [c.N]), activation: 'relu' as const } : {}) };
        const run = async (cfg: (typeof configs)[number] | { variant: 'general'; constants: Record<string, never> }) => {
          const prev = tunerOf(e).force('matmul', cfg);
          try {
            expect(matmulChoice(a, b, o).source).toBe('forced');
            return await ops.matmul(a, b, o).read();
          } finally {
            tunerOf(e).force('matmul', prev);
          }
        };
        const general = await run({ variant: 'general', constants: {} });
        const scale = general.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (const cfg of configs) {
          const name = JSON.stringify(cfg.constants);
          const got = await run(cfg);
          expectAllClose(got, want, { atol: 2e-6 * Math.sqrt(c.K) + 1e-6, rtol: 1e-4 });
          let diff = 0;
          for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i]! - general[i]!));
          expect(diff, name).toBeLessThanOrEqual(MATMUL_VARIANT_RTOL * Math.sqrt(c.K) * scale + 1e-6);
          // The parts are summed in a fixed order: the same bits every time.
          expectSameBits(await run(cfg), got, `${name} run twice`);
        }
      });
    });
  }

  it("is timed early among a GPU's candidates where the output is small for its K, and not at all where the layout or K rules it out", async () => {
    const gpu = await ownEngine({ kernelRules: 'gpu', disableFeatures: ['subgroups'], tune: 'off' });
    // A ViT-tiny weight gradient at batch 100 (192 → 192 over 6 400 tokens): right after the first tile.
    const tall = problem(192, 192, 6400);
    const names = MATMUL_TUNING.candidates(gpu, tall).map((c) => c.variant);
    expect(names[0]).toBe('tiled_v4');
    expect(names[1]).toBe('splitk');
    expect(names.filter((n) => n === 'splitk').length).toBeGreaterThanOrEqual(3);
    // Never the static rule (not measured), and only with a vec4 layout and a K worth splitting.
    expect(MATMUL_TUNING.staticConfig(gpu, tall).variant).toBe('tiled_v4');
    expect(MATMUL_TUNING.candidates(gpu, problem(192, 190, 6400)).some((c) => c.variant === 'splitk')).toBe(false);
    expect(MATMUL_TUNING.candidates(gpu, problem(192, 192, 24)).some((c) => c.variant === 'splitk')).toBe(false);
    // A CPU adapter's candidates: none (its GEMMs are not short of workgroups).
    expect(MATMUL_TUNING.candidates(e, tall).some((c) => c.variant === 'splitk')).toBe(e.kernelRules === 'gpu');
  });

  // A tile's constants reach the compiler folded into the kernel (a dead branch included): every
  // tile of the candidate lists must build and compute in each form, or a GPU whose static rule
  // picks it would fail (a division by the unused KCHUNK = 0 once did, for one tile only).
  it('every tile builds and computes in every form (tiled, tiled_v4 with and without prefetch, split-K) on a 68×132×100 Aᵀ·B', async () => {
    const [M, K, N] = [68, 132, 100];
    const ad = uniformData(K * M, 21);
    const bd = uniformData(K * N, 22);
    const want = matmulRef(ad, bd, { M, N, K, transA: true });
    const p = problem(M, N, K);
    const forms: TuneConfig[] = [
      ...MATMUL_TILES.flatMap(([BM, BN, BK, TM, TN]): TuneConfig[] => [
        { variant: 'tiled', constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN) } },
        { variant: 'tiled_v4', constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN) } },
        { variant: 'tiled_v4', constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN), PREFETCH: 1 } },
      ]),
      ...SPLITK_TILES.map(([BM, BN, BK, TM, TN]) => ({ variant: 'splitk', constants: { BM, BN, BK, TM, TN, WG: (BM / TM) * (BN / TN), KCHUNK: 2 * BK } })),
    ].filter((cfg) => MATMUL_TUNING.valid(e, p, cfg));
    expect(forms.length).toBeGreaterThanOrEqual(3 * MATMUL_TILES.length - 6);
    const plain = new Map<string, Float32Array>();
    await e.asyncScope(async () => {
      const a = e.tensor(ad, [K, M]);
      const b = e.tensor(bd, [K, N]);
      for (const cfg of forms) {
        const prev = tunerOf(e).force('matmul', cfg);
        try {
          expect(matmulChoice(a, b, { transA: true }).source).toBe('forced');
          const got = await ops.matmul(a, b, { transA: true }).read();
          expectAllClose(got, want, { atol: 2e-6 * Math.sqrt(K) + 1e-6, rtol: 1e-4 });
          // Prefetching changes when a tile is read, not what is summed: the same bits.
          const { PREFETCH, ...tileOnly } = cfg.constants;
          const key = `${cfg.variant} ${JSON.stringify(tileOnly)}`;
          if (PREFETCH) expectSameBits(got, plain.get(key)!, `${key} with prefetch`);
          else plain.set(key, got);
        } catch (err) {
          throw new Error(`${cfg.variant} ${JSON.stringify(cfg.constants)}: ${(err as Error).message}`);
        } finally {
          tunerOf(e).force('matmul', prev);
        }
      }
    });
  });

  it('the tuner times split-K configurations (two dispatches and the parts buffer) and checks them against the reference', async () => {
    const gpu = await ownEngine({ kernelRules: 'gpu', disableFeatures: ['subgroups'], tune: 'off' });
    const p = problem(48, 64, 1000);
    const split = splitkConfigs(p).filter((c) => MATMUL_TUNING.valid(gpu, p, c));
    const logs: string[] = [];
    const t = new Tuner(gpu, { mode: 'full', store: memoryTuneStore(), log: (m) => logs.push(m) });
    t.budgetMs = 60_000;
    const family = { ...MATMUL_TUNING, name: 'matmul-splitk-timing', candidates: () => split };
    const rec = await t.tune(family, p);
    expect(logs.filter((l) => /failed|skipped/.test(l))).toEqual([]);
    expect(rec!.tried).toBe(1 + split.length);
    expect(t.stats.rejected).toBe(0);
    expect(Object.keys(rec!.timings!).filter((k) => k.startsWith('splitk')).length).toBe(split.length);
    for (const ms of Object.values(rec!.timings!)) expect(ms).toBeGreaterThan(0);
  });
});

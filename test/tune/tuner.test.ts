// The autotuner on this machine's adapter (lavapipe in CI): modes, the cache
// key (adapter, family version, shape), first-use tuning in 'full' mode, the
// capture rule (never tune inside a captured step; captures reuse the last
// eager choice), the output check against the family's reference that rejects a wrong candidate
// (or a wrong static rule), both clocks
// (timestamp queries and the wall clock), and the file cache shared by two
// engines (the second run starts tuned).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Engine, fileTuneStore, memoryTuneStore, ops, tunerOf } from '../../src/index.js';
import { MATMUL_TUNING, type MatmulProblem, matmulChoice } from '../../src/ops/matmul.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { adapterKey, Tuner } from '../../src/tune/tuner.js';
import type { TuneCacheDoc, TuneConfig, TuneFamily, TuneRecord, TuneStore } from '../../src/tune/types.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { ownEngine } from '../helpers/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'automix-tuner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engine = ownEngine;

const problem = (M: number, K: number, N: number, o: Partial<MatmulProblem> = {}): MatmulProblem => ({
  M,
  N,
  K,
  batch: 1,
  aBatched: false,
  bBatched: false,
  transA: false,
  transB: false,
  bias: false,
  act: 'none',
  ...o,
});

const record = (cfg: TuneRecord['config']): TuneRecord => ({
  config: cfg,
  ms: 1,
  staticMs: 2,
  static: 'x',
  tried: 2,
  tuneMs: 10,
  timing: 'timestamp-query',
  date: '2026-12-05',
});

/** A store holding one record for `key` under this engine's adapter (or another one). */
function storeWith(e: Engine, key: string, rec: TuneRecord, adapter = adapterKey(e).key): TuneStore & { doc: TuneCacheDoc | null } {
  return memoryTuneStore({ version: 1, adapters: { [adapter]: { adapter: {}, entries: { [key]: rec } } } });
}

const TILED = { variant: 'tiled', constants: { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4, WG: 64 } };
const keyOf = (p: MatmulProblem, version = MATMUL_TUNING.version) => `matmul@v${version}:${MATMUL_TUNING.key(p)}`;

/** One matmul [M×K]·[K×N]; returns the choice it ran with and checks the values. */
async function runChecked(e: Engine, M: number, K: number, N: number) {
  return e.asyncScope(async () => {
    const ad = uniformData(M * K, M + 1),
      bd = uniformData(K * N, N + 2);
    const a = e.tensor(ad, [M, K]),
      b = e.tensor(bd, [K, N]);
    const choice = matmulChoice(a, b);
    const c = ops.matmul(a, b);
    expectAllClose(await c.read(), matmulRef(ad, bd, { M, N, K }), { atol: 2e-6 * Math.sqrt(K) + 1e-6, rtol: 1e-4 });
    return choice;
  });
}

describe('tuner', () => {
  it('modes: off ignores the cache; cached uses a valid entry; the static rule otherwise', async () => {
    const p = problem(33, 17, 65);
    const probe = await engine({ tune: 'off', tuneStore: memoryTuneStore() });
    const store = storeWith(probe, keyOf(p), record(TILED));
    const off = new Tuner(probe, { mode: 'off', store });
    expect(off.choose(MATMUL_TUNING, p).source).toBe('static');
    expect(off.choose(MATMUL_TUNING, p).config).toEqual(MATMUL_TUNING.staticConfig(probe, p));
    const cached = new Tuner(probe, { mode: 'cached', store });
    expect(cached.choose(MATMUL_TUNING, p)).toEqual({ config: TILED, source: 'cache' });
    // Another shape, another adapter, another family version: not this entry.
    expect(cached.choose(MATMUL_TUNING, problem(33, 17, 64)).source).toBe('static');
    expect(new Tuner(probe, { mode: 'cached', store: storeWith(probe, keyOf(p), record(TILED), 'other|adapter') }).choose(MATMUL_TUNING, p).source).toBe(
      'static',
    );
    expect(new Tuner(probe, { mode: 'cached', store: storeWith(probe, keyOf(p, 0), record(TILED)) }).choose(MATMUL_TUNING, p).source).toBe('static');
    expect(cached.pending).toBe(0); // 'cached' never measures
    expect(() => new Tuner(probe, { mode: 'fast' as 'off', store })).toThrow(/off, cached, full/);
  });

  it('cached: an entry that cannot run here (unknown variant, over the limits, wrong layout) falls back to the static rule', async () => {
    const e = await engine({ tune: 'off', tuneStore: memoryTuneStore() });
    const p = problem(33, 17, 65);
    const huge = { variant: 'tiled', constants: { BM: 512, BN: 512, BK: 64, TM: 8, TN: 8, WG: 4096 } };
    const inconsistent = { variant: 'tiled', constants: { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4, WG: 32 } };
    const v4 = { variant: 'tiled_v4', constants: TILED.constants }; // K = 17, N = 65: no vec4 layout
    const configs: TuneConfig[] = [{ variant: 'bogus', constants: {} }, huge, inconsistent, v4, { variant: 'general', constants: { X: 1 } }];
    for (const cfg of configs) {
      const t = new Tuner(e, { mode: 'cached', store: storeWith(e, keyOf(p), record(cfg)) });
      expect(t.choose(MATMUL_TUNING, p).source, JSON.stringify(cfg)).toBe('static');
    }
    // A corrupt document is an empty cache.
    const bad: TuneStore = { where: 'x', load: () => ({ version: 7 }), save: () => {} };
    expect(new Tuner(e, { mode: 'cached', store: bad }).choose(MATMUL_TUNING, p).source).toBe('static');
  });

  it('full: the first use runs the static rule and tunes in the background; later uses run the winner, with the same values', async () => {
    const store = memoryTuneStore();
    const e = await engine({ tune: 'full', tuneStore: store });
    const t = tunerOf(e);
    t.budgetMs = 0; // the static rule and one more candidate
    // Big enough (2 MFLOP) that the times are above the clock's resolution (src/tune/clock.ts, readTime).
    const first = e.scope(() => {
      const a = e.tensor(uniformData(128 * 96, 1), [128, 96]);
      const b = e.tensor(uniformData(96 * 160, 2), [96, 160]);
      const choice = matmulChoice(a, b);
      ops.matmul(a, b).dispose();
      return choice;
    });
    expect(first.source).toBe('static');
    expect(t.pending).toBe(1);
    await t.idle();
    expect(t.pending).toBe(0);
    const p = problem(128, 96, 160);
    const rec = store.doc!.adapters[adapterKey(e).key]!.entries[keyOf(p)]!;
    expect(rec.tried).toBe(2);
    expect(Object.keys(rec.timings!)).toHaveLength(2);
    expect(rec.static).toBe(MATMUL_TUNING.describe(MATMUL_TUNING.staticConfig(e, p)));
    expect(rec.timing).toBe('timestamp-query');
    expect(t.stats).toMatchObject({ mode: 'full', tuned: 1, configs: 2, errors: 0 });
    expect(t.stats.ms).toBeGreaterThan(0);
    expect(t.stats.log.join('\n')).toMatch(new RegExp(`${keyOf(problem(128, 96, 160))}: .* 2 of \\d+ configs in [\\d.]+ s \\(timestamp-query\\)`));
    const after = await runChecked(e, 128, 96, 160);
    expect(after.source).toBe('tuned');
    expect(after.config).toEqual(rec.config);
    expect(t.pending).toBe(0); // nothing re-tuned
  });

  it('never inside a captured step: captures reuse the last eager choice and schedule nothing', async () => {
    const e = await engine({ tune: 'full', tuneStore: memoryTuneStore() });
    const t = tunerOf(e);
    t.budgetMs = 0;
    const a = e.tensor(uniformData(40 * 12, 3), [40, 12]);
    const b = e.tensor(uniformData(12 * 28, 4), [12, 28]);
    const inCapture = () =>
      e.capture(() => {
        const choice = matmulChoice(a, b);
        ops.matmul(a, b).dispose();
        return choice;
      }).result;
    // A shape never seen: the static rule, and no tuning is scheduled.
    const c0 = inCapture();
    expect(c0.source).toBe('static');
    expect(t.pending).toBe(0);
    let refused: unknown = null;
    e.capture(() => {
      t.tune(MATMUL_TUNING, problem(40, 12, 28)).catch((err: unknown) => (refused = err));
    });
    await Promise.resolve();
    expect(String(refused)).toMatch(/captured step/);
    // Eager use schedules it; once tuned, a capture still uses the last eager choice...
    const eager = e.scope(() => {
      const ch = matmulChoice(a, b);
      ops.matmul(a, b).dispose();
      return ch;
    });
    expect(eager.source).toBe('static');
    await t.idle();
    expect(t.stats.tuned).toBe(1);
    expect(inCapture()).toEqual(eager);
    // ...until an eager call has picked up the tuned one.
    const tuned = e.scope(() => matmulChoice(a, b));
    expect(tuned.source).toBe('tuned');
    expect(inCapture()).toEqual(tuned);
    a.dispose();
    b.dispose();
  });

  it('a candidate whose output differs from the static rule is rejected, never chosen', async () => {
    const e = await engine({ tune: 'off', tuneStore: memoryTuneStore() });
    // A broken "variant": the tiled kernel told B is transposed when it is not.
    const broken: TuneFamily<MatmulProblem> = {
      ...MATMUL_TUNING,
      name: 'matmul-broken',
      staticConfig: () => ({ variant: 'general', constants: {} }),
      candidates: (eng, p) => [{ variant: 'general', constants: {} }, TILED].filter((c) => MATMUL_TUNING.valid(eng, p, c)),
      launch: (eng, p, cfg) => {
        const l = MATMUL_TUNING.launch(eng, p, cfg);
        return cfg.variant === 'tiled' ? { ...l, constants: { ...l.constants, TRANS_B: 1 } } : l;
      },
    };
    const t = new Tuner(e, { mode: 'full', store: memoryTuneStore(), log: () => {} });
    const rec = await t.tune(broken, problem(48, 48, 48));
    expect(rec!.config.variant).toBe('general');
    expect(rec!.tried).toBe(2);
    expect(t.stats.rejected).toBe(1);
    expect(t.stats.log.join('\n')).toMatch(/tiled 32×32×16 4×4 rejected: max \|Δ\|/);
  });

  it("a static rule that this adapter computes wrong is caught by the family's reference and replaced", async () => {
    const e = await engine({ tune: 'off', tuneStore: memoryTuneStore() });
    // As a GPU-only race would look: the static tiled kernel is wrong (told B is transposed), the
    // plain 'general' kernel is the family's reference, and another tile computes right.
    const TILED2 = { variant: 'tiled', constants: { BM: 16, BN: 16, BK: 16, TM: 2, TN: 4, WG: 32 } };
    const wrongStatic: TuneFamily<MatmulProblem> = {
      ...MATMUL_TUNING,
      name: 'matmul-wrong-static',
      staticConfig: () => TILED,
      candidates: (eng, p) => [TILED, TILED2].filter((c) => MATMUL_TUNING.valid(eng, p, c)),
      launch: (eng, p, cfg) => {
        const l = MATMUL_TUNING.launch(eng, p, cfg);
        return cfg.constants['BM'] === 32 ? { ...l, constants: { ...l.constants, TRANS_B: 1 } } : l;
      },
    };
    const t = new Tuner(e, { mode: 'full', store: memoryTuneStore(), log: () => {} });
    const rec = await t.tune(wrongStatic, problem(48, 48, 48));
    expect(rec!.config).toEqual(TILED2);
    expect(rec!.staticWrong).toBe(true);
    expect(t.stats.log.join('\n')).toMatch(
      /the static rule tiled 32×32×16 4×4 computes this shape wrong on this adapter: max \|Δ\| .* from the reference general/,
    );
    // With no other candidate in the budget, the reference itself is chosen.
    const only: TuneFamily<MatmulProblem> = {
      ...wrongStatic,
      name: 'matmul-wrong-static-only',
      candidates: (eng, p) => [TILED].filter((c) => MATMUL_TUNING.valid(eng, p, c)),
    };
    const rec2 = await t.tune(only, problem(48, 48, 48));
    expect(rec2!.config).toEqual({ variant: 'general', constants: {} });
    expect(rec2!.staticWrong).toBe(true);
    // A static rule that agrees with the reference is kept as before (no flag).
    const right = await t.tune({ ...MATMUL_TUNING, name: 'matmul-right-static', staticConfig: () => TILED, candidates: () => [TILED] }, problem(48, 48, 48));
    expect(right!.config).toEqual(TILED);
    expect(right!.staticWrong).toBeUndefined();
  });

  it('without timestamp queries the tuner times with the wall clock', async () => {
    const e = await engine({ tune: 'full', tuneStore: memoryTuneStore(), disableFeatures: ['timestamp-query'] });
    expect(e.features.has('timestamp-query')).toBe(false);
    const t = tunerOf(e);
    t.budgetMs = 0;
    const rec = await t.tune(MATMUL_TUNING, problem(20, 8, 24));
    expect(rec!.timing).toBe('wall-clock');
    expect(rec!.ms).toBeGreaterThan(0);
    expect((await runChecked(e, 20, 8, 24)).source).toBe('tuned');
  });

  it('file cache: one engine tunes and saves it; a second engine (the next run) starts tuned', async () => {
    const path = join(dir, 'cache', 'tune.json');
    const e1 = await engine({ tune: 'full', tuneStore: fileTuneStore(path) });
    tunerOf(e1).budgetMs = 0;
    await tunerOf(e1).tune(MATMUL_TUNING, problem(24, 16, 8, { bias: true, act: 'relu' }));
    const doc = JSON.parse(readFileSync(path, 'utf8')) as TuneCacheDoc;
    const entry = doc.adapters[adapterKey(e1).key]!;
    expect(entry.adapter['description']).toBe(e1.info.description);
    expect(Object.keys(entry.entries)).toEqual([keyOf(problem(24, 16, 8, { bias: true, act: 'relu' }))]);
    const e2 = await engine({ tune: 'cached', tuneStore: fileTuneStore(path) });
    const c = e2.scope(() => {
      const a = e2.tensor(uniformData(24 * 16, 5), [24, 16]);
      const b = e2.tensor(uniformData(16 * 8, 6), [16, 8]);
      return matmulChoice(a, b, { bias: e2.tensor(uniformData(8, 7), [8]), activation: 'relu' });
    });
    expect(c.source).toBe('cache');
    expect(c.config).toEqual(entry.entries[keyOf(problem(24, 16, 8, { bias: true, act: 'relu' }))]!.config);
    expect(tunerOf(e2).pending).toBe(0);
  });

  it('a device granted smaller limits than its adapter (compatibility mode) keeps its own cache entries', async () => {
    const full = await engine({ tune: 'off' });
    const small = await engine({ tune: 'off', featureLevel: 'compatibility', limits: 'default' });
    expect(adapterKey(full).adapter['limits']).toBeUndefined();
    expect(adapterKey(small).adapter['limits']).toMatch(/maxComputeInvocationsPerWorkgroup=128/);
    expect(adapterKey(small).key).not.toBe(adapterKey(full).key);
  });

  it("an engine on the other adapter class's kernel rules keeps its own cache entries", async () => {
    const own = await engine({ tune: 'off' });
    // (a GPU's rules without subgroups: where 8-lane subgroups exist, sg8 stays every rule's first choice)
    const other = await engine(
      own.kernelRules === 'cpu' ? { tune: 'off', kernelRules: 'gpu', disableFeatures: ['subgroups'] } : { tune: 'off', kernelRules: 'cpu' },
    );
    expect(own.kernelRules).toBe(own.info.isFallbackAdapter ? 'cpu' : 'gpu');
    // The adapter's own rules keep the key every earlier cache used; the other rules add theirs.
    expect(adapterKey(own).adapter['rules']).toBeUndefined();
    expect(adapterKey(other).adapter['rules']).toBe(other.kernelRules);
    expect(adapterKey(other).key).not.toBe(adapterKey(own).key);
    // And its static choices are the other class's: a GPU's matmul candidates start with tiles, a CPU's with sg8 or a CPU tile.
    const p = problem(256, 256, 256);
    const first = (e: Engine) => MATMUL_TUNING.candidates(e, p)[0]!.variant;
    const [cpuE, gpuE] = own.kernelRules === 'cpu' ? [own, other] : [other, own];
    expect(first(gpuE)).toBe('tiled_v4');
    expect(['sg8', 'tiled_v4']).toContain(first(cpuE));
    // A GPU's static matmul is its first tile (the general kernel only where no tile fits the adapter).
    for (const q of [p, problem(6, 20, 10), problem(1, 7, 1)]) expect(MATMUL_TUNING.staticConfig(gpuE, q)).toEqual(MATMUL_TUNING.candidates(gpuE, q)[0]);
    expect(MATMUL_TUNING.staticConfig(gpuE, problem(1, 7, 1)).variant).toBe('tiled');
    // A small output (the ViT's 192 × 192 weight gradients) gets the most workgroups, not the largest tile (4 workgroups).
    const small = MATMUL_TUNING.staticConfig(gpuE, problem(192, 4900, 192, { transA: true })).constants;
    expect(Math.ceil(192 / small['BM']!) * Math.ceil(192 / small['BN']!)).toBeGreaterThanOrEqual(100);
  });
});

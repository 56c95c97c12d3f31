/**
 * The Mix Block attention's tuner family (src/ops/mix-block-attention-tuning.ts)
 * on this machine's adapter: its candidates are valid and cover the unfused
 * and fused forms; the static rule is the op's pre-tuner rule (so tune mode
 * 'off' behaves as before); a measurement times whole chains of dispatches and
 * its winner is what the op then runs, with the reference's values; a capture
 * reuses the last eager choice; a cached record is honoured only when valid.
 */
import { describe, expect, it } from 'vitest';
import { type Engine, memoryTuneStore, ops, tunerOf } from '../../src/index.js';
import { mixBlockChoice } from '../../src/ops/mix-block-attention.js';
import { fusedWg, tiledConfig } from '../../src/ops/mix-block-attention-plan.js';
import { FUSED_MAX_L, MIX_BLOCK_TUNING, type MixBlockProblem } from '../../src/ops/mix-block-attention-tuning.js';
import { mixBlockLogitsBackwardRef, mixBlockLogitsRef } from '../../src/reference/mix-block-attention.js';
import { adapterKey } from '../../src/tune/tuner.js';
import type { TuneConfig, TuneRecord } from '../../src/tune/types.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { ownEngine } from '../helpers/engine.js';

const FWD = { atol: 2e-5, rtol: 2e-4 };
const BWD = { atol: 1e-4, rtol: 2e-3 };

const engine = ownEngine;

const prob = (N: number, C: number, L: number, training: boolean, lam = false): MixBlockProblem => ({ N, C, d: C / 2, L, lam, training });

/** A small Mix Block (N = 4, C = 12, d = 6, 7×7, π with a repeated partner) run through the op; checks values and gradients. */
async function runChecked(e: Engine, training: boolean, capture = false) {
  const [N, C, h, w, d] = [4, 12, 7, 7, 6];
  const perm = [2, 0, 2, 1];
  const x = { z: uniformData(N * C * h * w, 1), wq: uniformData(d * C, 2), bq: uniformData(d, 3), wv: uniformData(C, 4), bv: uniformData(1, 5) };
  const ds = uniformData(N * h * w, 6);
  const dims = { N, C, L: h * w, d };
  return e.asyncScope(async () => {
    const z = e.tensor(x.z, [N, C, h, w]);
    const pt = e.tensor(perm, [N], { dtype: 'i32' });
    const ps = [e.tensor(x.wq, [d, C]), e.tensor(x.bq, [d]), e.tensor(x.wv, [1, C]), e.tensor(x.bv, [1])];
    for (const t of ps) t.requiresGrad = training;
    const [wq, bq, wv, bv] = ps as [typeof z, typeof z, typeof z, typeof z];
    const call = () => {
      const choice = mixBlockChoice(z, wq, { training });
      const s = ops.mixBlockLogits(z, pt, wq, bq, wv, bv);
      return { choice, s };
    };
    const { choice, s } = capture ? e.capture(call).result : call();
    expectAllClose(await s.read(), mixBlockLogitsRef(x.z, perm, x.wq, x.bq, x.wv, x.bv, dims), FWD);
    if (training) {
      s.backward(e.tensor(ds, s.shape));
      const r = mixBlockLogitsBackwardRef(x.z, perm, x.wq, x.bq, x.wv, x.bv, ds, dims);
      expectAllClose(await wq.grad!.read(), r.dwq, BWD);
      expectAllClose(await bv.grad!.read(), r.dbv, BWD);
    }
    return choice;
  });
}

describe('mix block attention tuner family', () => {
  it.each(['cpu', 'gpu'] as const)(
    '%s rules: candidates are valid, distinct, and cover unfused and fused; the static rule (CPU: the pre-tuner rule; GPU: the first tile)',
    async (rules) => {
      const e = await engine({ tune: 'off', kernelRules: rules });
      const problems = [
        prob(32, 64, 49, true),
        prob(32, 64, 49, false),
        prob(100, 256, 64, false, true),
        prob(100, 64, 256, true),
        prob(1, 2, 1, true),
        prob(3, 10, 99, false),
      ];
      for (const p of problems) {
        const cands = MIX_BLOCK_TUNING.candidates(e, p);
        const names = cands.map(MIX_BLOCK_TUNING.describe);
        expect(new Set(names).size, names.join(', ')).toBe(names.length);
        for (const c of cands) expect(MIX_BLOCK_TUNING.valid(e, p, c), MIX_BLOCK_TUNING.describe(c)).toBe(true);
        expect(names).toContain('unfused');
        expect(names.some((n) => n.startsWith('fused'))).toBe(true);
        const st = MIX_BLOCK_TUNING.staticConfig(e, p);
        expect(MIX_BLOCK_TUNING.valid(e, p, st)).toBe(true);
        expect(names).toContain(MIX_BLOCK_TUNING.describe(st));
        // CPU: the rule the op had before the tuner: fused for a forward without gradient at L ≤ 64, else unfused.
        // GPU: the first candidate, a tile, where one fits.
        const want: TuneConfig =
          rules === 'gpu' && cands[0]!.variant === 'tiled'
            ? cands[0]!
            : !p.training && p.L <= FUSED_MAX_L
              ? { variant: 'fused', constants: { WG: fusedWg(p.L) } }
              : { variant: 'unfused', constants: {} };
        expect(st).toEqual(want);
        if (rules === 'gpu' && p.N * p.L >= 64) expect(st.variant, names.join(', ')).toBe('tiled');
      }
      // Ill-formed or oversized configurations are refused.
      const p = prob(8, 16, 49, true);
      expect(MIX_BLOCK_TUNING.valid(e, p, { variant: 'fused', constants: { WG: 12 } })).toBe(false);
      expect(MIX_BLOCK_TUNING.valid(e, p, { variant: 'tiled', constants: { BQ: 64, BK: 64, DC: 16, TQ: 16, TK: 4, WG: 64 } })).toBe(false);
      expect(MIX_BLOCK_TUNING.valid(e, p, { variant: 'tiled', constants: { BQ: 64, BK: 64, DC: 16, TQ: 4, TK: 4, WG: 128 } })).toBe(false);
      expect(MIX_BLOCK_TUNING.valid(e, p, { variant: 'tiled', constants: { BQ: 1024, BK: 1024, DC: 64, TQ: 8, TK: 8, WG: 16384 } })).toBe(false);
      expect(MIX_BLOCK_TUNING.valid(e, p, { variant: 'flash', constants: {} })).toBe(false);
    },
  );

  it("tune 'off': the op runs the static rule (fused forward without gradient at L = 49, unfused while training)", async () => {
    const e = await engine({ tune: 'off' });
    const fwd = await runChecked(e, false);
    expect(fwd).toMatchObject({ source: 'static', name: `fused WG${fusedWg(49)}` });
    const train = await runChecked(e, true);
    expect(train).toMatchObject({ source: 'static', name: 'unfused' });
  });

  it("tune 'full': the first use tunes in the background; later uses run the winner, with the reference's values", async () => {
    const store = memoryTuneStore();
    const e = await engine({ tune: 'full', tuneStore: store });
    const t = tunerOf(e);
    t.budgetMs = 0; // the static rule and the next candidate
    t.force('matmul', { variant: 'general', constants: {} }); // the unfused chain's matmuls: no nested tuning
    const first = await runChecked(e, true);
    expect(first.source).toBe('static');
    await t.idle();
    const p: MixBlockProblem = { N: 4, C: 12, d: 6, L: 49, lam: false, training: true };
    const rec = store.doc!.adapters[adapterKey(e).key]!.entries[`mix_block_attention@v${MIX_BLOCK_TUNING.version}:${MIX_BLOCK_TUNING.key(p)}`]!;
    expect(rec.tried).toBe(2);
    expect(rec.static).toBe('unfused');
    // The static rule is timed first, then the first other candidate.
    const next = MIX_BLOCK_TUNING.candidates(e, p)
      .map(MIX_BLOCK_TUNING.describe)
      .find((n) => n !== 'unfused');
    expect(Object.keys(rec.timings!)).toEqual(['unfused', next]);
    expect(t.stats.rejected).toBe(0);
    const after = await runChecked(e, true);
    expect(after.source).toBe('tuned');
    expect(after.config).toEqual(rec.config);
    // A capture reuses the last eager choice and schedules nothing.
    const inCapture = await runChecked(e, true, true);
    expect(inCapture).toEqual(after);
    expect(t.pending).toBe(0);
    t.force('matmul', null);
  });

  it('a cached tiled choice runs (and matches the reference); an invalid cached one falls back to the static rule', async () => {
    const p: MixBlockProblem = { N: 4, C: 12, d: 6, L: 49, lam: false, training: true };
    const key = `mix_block_attention@v${MIX_BLOCK_TUNING.version}:${MIX_BLOCK_TUNING.key(p)}`;
    const rec = (config: TuneConfig): TuneRecord => ({
      config,
      ms: 1,
      staticMs: 2,
      static: 'unfused',
      tried: 2,
      tuneMs: 1,
      timing: 'timestamp-query',
      date: '2026-12-05',
    });
    const probe = await engine({ tune: 'off' });
    const at = adapterKey(probe).key;
    const tiled = tiledConfig([32, 32, 16, 2, 2]);
    const good = await engine({
      tune: 'cached',
      tuneStore: memoryTuneStore({ version: 1, adapters: { [at]: { adapter: {}, entries: { [key]: rec(tiled) } } } }),
    });
    expect(await runChecked(good, true)).toMatchObject({ source: 'cache', config: tiled });
    const bad = { variant: 'tiled', constants: { ...tiled.constants, WG: 3 } };
    const other = await engine({
      tune: 'cached',
      tuneStore: memoryTuneStore({ version: 1, adapters: { [at]: { adapter: {}, entries: { [key]: rec(bad) } } } }),
    });
    expect(await runChecked(other, true)).toMatchObject({ source: 'static', name: 'unfused' });
  });
});

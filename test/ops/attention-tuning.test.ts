/**
 * The token-major attention's tuner family (src/ops/attention-tuning.ts) on
 * this machine's adapter: candidates valid and distinct, the static rule among
 * them (on a CPU adapter the measured CPU_STATIC), shapes the fused kernels
 * cannot hold excluded; a measurement times the whole chains and finds the
 * forms' outputs within the family's tolerance (no candidate rejected); the
 * winner is what the op then runs, with the reference's values.
 */
import { describe, expect, it } from 'vitest';
import { memoryTuneStore, ops, tunerOf } from '../../src/index.js';
import { attentionTokensChoice } from '../../src/ops/attention.js';
import { fusedConfig, tiledConfig } from '../../src/ops/attention-plan.js';
import { ATTENTION_TUNING, type AttentionProblem, CPU_STATIC } from '../../src/ops/attention-tuning.js';
import { attentionRef } from '../../src/reference/attention.js';
import { adapterKey } from '../../src/tune/tuner.js';
import { expectAllClose, uniformData } from '../helpers/allclose.js';
import { ownEngine } from '../helpers/engine.js';

const engine = ownEngine;

const prob = (N: number, H: number, L: number, dh: number, training: boolean): AttentionProblem => ({ N, H, Lq: L, Lk: L, dh, dv: dh, training });

describe('attention tuner family', () => {
  it.each(['cpu', 'gpu'] as const)('%s rules: candidates are valid and distinct, include the static rule; fused excluded past dh 128', async (rules) => {
    const e = await engine({ tune: 'off', kernelRules: rules });
    for (const p of [prob(8, 3, 64, 64, true), prob(32, 3, 65, 64, false), prob(1, 1, 1, 1, true), prob(2, 6, 197, 32, true), prob(2, 2, 9, 132, true)]) {
      const cands = ATTENTION_TUNING.candidates(e, p);
      const names = cands.map(ATTENTION_TUNING.describe);
      expect(new Set(names).size, names.join(', ')).toBe(names.length);
      for (const c of cands) expect(ATTENTION_TUNING.valid(e, p, c), ATTENTION_TUNING.describe(c)).toBe(true);
      const st = ATTENTION_TUNING.staticConfig(e, p);
      expect(names[0]).toBe(ATTENTION_TUNING.describe(st));
      expect(names).toContain('unfused');
      if (p.dh > 128) expect(names).toEqual(['unfused']);
      else if (rules === 'cpu') {
        expect(st.variant).toBe(CPU_STATIC);
        expect(names.some((n) => n.startsWith('fused'))).toBe(true);
      } else expect(st.variant).toBe('tiled');
    }
    const p = prob(8, 3, 64, 64, true);
    expect(ATTENTION_TUNING.valid(e, p, fusedConfig(48))).toBe(false);
    expect(ATTENTION_TUNING.valid(e, p, tiledConfig([64, 24]))).toBe(false);
    expect(ATTENTION_TUNING.valid(e, p, { variant: 'unfused', constants: { WG: 64 } })).toBe(false);
    expect(ATTENTION_TUNING.valid(e, p, { variant: 'flash', constants: {} })).toBe(false);
  });

  it("tune 'full': two forms timed as whole chains, none rejected; the winner runs with the reference's values", async () => {
    const store = memoryTuneStore();
    const e = await engine({ tune: 'full', tuneStore: store });
    const t = tunerOf(e);
    t.budgetMs = 0; // the static rule and the next candidate
    const [N, H, L, dh] = [2, 3, 13, 8];
    const x = { q: uniformData(N * L * H * dh, 1), k: uniformData(N * L * H * dh, 2), v: uniformData(N * L * H * dh, 3) };
    const run = async () => {
      const [q, k, v] = [x.q, x.k, x.v].map((a) => e.tensor(a, [N, L, H, dh], { requiresGrad: true })) as [
        ReturnType<typeof e.tensor>,
        ReturnType<typeof e.tensor>,
        ReturnType<typeof e.tensor>,
      ];
      const choice = attentionTokensChoice(q, k, v, true);
      const y = ops.attentionTokens(q, k, v);
      const want = attentionRef(
        ...([x.q, x.k, x.v].map((a) => {
          const h = new Float64Array(a.length);
          for (let n = 0; n < N; n++)
            for (let l = 0; l < L; l++)
              for (let hh = 0; hh < H; hh++) for (let c = 0; c < dh; c++) h[((n * H + hh) * L + l) * dh + c] = a[((n * L + l) * H + hh) * dh + c]!;
          return h;
        }) as [Float64Array, Float64Array, Float64Array]),
        { BH: N * H, Lq: L, Lk: L, dh, dv: dh },
        1 / Math.sqrt(dh),
      );
      const got = await y.read();
      const heads = new Float64Array(got.length);
      for (let n = 0; n < N; n++)
        for (let l = 0; l < L; l++)
          for (let hh = 0; hh < H; hh++) for (let c = 0; c < dh; c++) heads[((n * H + hh) * L + l) * dh + c] = got[((n * L + l) * H + hh) * dh + c]!;
      expectAllClose(heads, want, { atol: 1e-5, rtol: 1e-4 });
      return choice;
    };
    const first = await run();
    expect(first.source).toBe('static');
    await t.idle();
    const p = prob(N, H, L, dh, true);
    const rec = store.doc!.adapters[adapterKey(e).key]!.entries[`attention@v${ATTENTION_TUNING.version}:${ATTENTION_TUNING.key(p)}`]!;
    expect(rec.tried).toBe(2);
    expect(t.stats.rejected).toBe(0);
    const after = await run();
    expect(after.source).toBe('tuned');
    expect(after.config).toEqual(rec.config);
  });
});

/**
 * Mix Block attention: every configuration the tuner considers (forced), the
 * tuner's own pick, and TF.js, forward and backward, on the bench case's
 * inputs (bench/cases/mix-block-attention.ts: the same TF.js code as
 * `npm run bench -- --vs tfjs`). Shapes: the ResNet-18 ×0.25 Mix Block
 * (C = 64, d = 32) on 7×7 (28-pixel images), 8×8 (32-pixel), 14×14 and 16×16
 * maps at N = 32 and 100, and the bench's full-width C = 256 cases.
 *
 * "forward" = one op call without gradient (pack, projection, attention);
 * "backward" = s.backward(ds) after a recorded forward (attention backward,
 * mb_combine, parameter gradients) — each the sum of its dispatches' GPU time
 * (timestamp queries), minimum over the repeats. TF.js: tf.time() kernelMs,
 * minimum over the repeats. The tuner's pick: Tuner.tune on the problem (all
 * candidates within a 60 s budget), whose chain times are printed too.
 * Matmuls run the static rule (tune 'off'), so the numbers do not depend on
 * what was tuned before.
 *
 * Run: npx tsx bench/scratch/mb-attn-bench.ts [reps=3] [filter: e.g. "C=64"]
 */
import { createEngine, memoryTuneStore, tunerOf } from '../../src/index.js';
import { MIX_BLOCK_TUNING, type MixBlockProblem } from '../../src/ops/mix-block-attention-tuning.js';
import { mixBlockCase } from '../cases/mix-block-attention.js';
import { initTf } from '../tfjs.js';

const reps = Number(process.argv[2] ?? 3);
const filter = process.argv[3] ?? '';
const SHAPES: [N: number, C: number, S: number][] = [
  [32, 64, 7],
  [100, 64, 7],
  [32, 64, 8],
  [100, 64, 8],
  [32, 64, 14],
  [100, 64, 14],
  [32, 64, 16],
  [100, 64, 16],
  [100, 256, 8],
  [100, 256, 16],
];

const e = await createEngine({ tune: 'off', tuneStore: memoryTuneStore() }); // nothing written to the user's tuning cache
const harness = await initTf(e.info, false);
const t = tunerOf(e);
t.budgetMs = 60_000;
console.log(`${e.info.description}, ${new Date().toISOString()}, TF.js ${harness.version} (${harness.method}), ${reps} repeats`);
const min = (a: number[]) => Math.min(...a);
const results: Record<string, unknown>[] = [];

for (const [N, C, S] of SHAPES) {
  const d = C / 2;
  const L = S * S;
  for (const mode of ['forward', 'backward'] as const) {
    const bc = mixBlockCase(N, C, S, mode);
    const label = `${bc.kernel} ${bc.name}`;
    if (filter && !label.includes(filter)) continue;
    const prep = bc.prepare({ engine: e, software: e.info.isFallbackAdapter, full: true });
    const problem: MixBlockProblem = { N, C, d, L, lam: false, training: mode === 'backward' };
    // TF.js
    const side = prep.tf!(harness.tf);
    const tfMs: number[] = [];
    await harness.time(side.run); // warm-up (compiles)
    for (let r = 0; r < reps; r++) tfMs.push(await harness.time(side.run));
    side.dispose();
    // Ours, each configuration forced.
    const ours: Record<string, number> = {};
    for (const cfg of MIX_BLOCK_TUNING.candidates(e, problem)) {
      const name = MIX_BLOCK_TUNING.describe(cfg);
      t.force(MIX_BLOCK_TUNING.name, cfg);
      const once = async (profile: boolean): Promise<number> => {
        prep.ours.before?.();
        if (profile) e.startProfiling();
        const out = prep.ours.run();
        const tm = profile ? await e.stopProfiling() : [];
        const list = Array.isArray(out) ? out : [out];
        if (prep.ours.after) prep.ours.after(list);
        else for (const x of list) x.dispose();
        await e.sync();
        return tm.reduce((a, x) => a + x.ms, 0);
      };
      await once(false); // warm-up: pipelines, pool
      const ms: number[] = [];
      for (let r = 0; r < reps; r++) ms.push(await once(true));
      ours[name] = min(ms);
    }
    t.force(MIX_BLOCK_TUNING.name, null);
    const rec = await t.tune(MIX_BLOCK_TUNING, problem);
    const pick = rec ? MIX_BLOCK_TUNING.describe(rec.config) : '—';
    const staticName = MIX_BLOCK_TUNING.describe(MIX_BLOCK_TUNING.staticConfig(e, problem));
    const tf = min(tfMs);
    console.log(`\n${label}: TF.js ${tf.toFixed(2)} ms; static ${staticName}; tuner's pick ${pick} (${rec?.tuneMs ?? '—'} ms tuning)`);
    for (const [name, ms] of Object.entries(ours).sort((x, y) => x[1] - y[1])) {
      const chain = rec?.timings?.[name];
      const tags = [name === pick ? 'pick' : '', name === staticName ? 'static' : ''].filter(Boolean).join(', ');
      console.log(
        `  ${name.padEnd(24)} ${ms.toFixed(2).padStart(9)} ms  ${(tf / ms).toFixed(2).padStart(6)}× TF.js   chain ${chain === undefined ? '—' : chain.toFixed(3)} ms ${tags}`,
      );
    }
    results.push({ case: label, N, C, d, L, mode, tfMs: tf, oursMs: ours, static: staticName, pick, chainMs: rec?.timings ?? null });
    prep.dispose();
  }
}
console.log(`\n${JSON.stringify(results)}`);
e.destroy();
process.exit(0);

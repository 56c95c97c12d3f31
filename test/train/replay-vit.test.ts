// The ViT's multi-head attention (attentionTokens) in each form: a replayed
// training run equals the eager one bit for bit over 22 steps — every loss
// term, the parameters and the optimiser state.
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Engine, type Method, Rng, type Tensor, tunerOf } from '../../src/index.js';
import { type StepResult, TrainingRun } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';
import { TILED_TILES, tiledConfig } from '../../src/ops/attention-plan.js';
import { describeAttentionConfig } from '../../src/ops/attention-tuning.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { testEngine } from '../helpers/engine.js';

const SHAPE = [4, 3, 16, 16] as const;
const DATA = { c: 3, h: 16, w: 16, numClasses: 3 };
const STEPS = 22;

function batch(i: number): HostBatch {
  const rng = new Rng(2000 + i);
  const x = Float32Array.from({ length: SHAPE.reduce((a: number, b) => a * b, 1) }, () => rng.normal());
  const y = Int32Array.from({ length: SHAPE[0] }, () => rng.int(DATA.numClasses));
  return { x, y, shape: SHAPE };
}

async function train(e: Engine, method: Method, replay: 'auto' | 'off') {
  const run = new TrainingRun(e, { ...defaultConfig(method), model: 'vit-tiny' }, DATA, { replay });
  const results: StepResult[] = [];
  for (let i = 0; i < STEPS; i++) {
    run.setLr(0.05 * (1 - i / STEPS));
    run.step(batch(i), i, 0.9 + i / 1000);
    results.push(...(await run.results(1)));
  }
  results.push(...(await run.results()));
  return { run, results };
}

function state(run: TrainingRun): Record<string, Tensor> {
  const out: Record<string, Tensor> = { online: run.online.params.flat };
  if (run.automix) out['mix_block'] = run.automix.mixBlock.params.flat;
  for (const [k, t] of Object.entries(run.optimizer.stateTensors())) out[`optim.${k}`] = t;
  return out;
}

describe('ViT: replay equals eager with each attention form', () => {
  // A variant name forces each problem's first candidate of that form; 'tiled' (not a CPU candidate) as a full config.
  const cases: [Method, string | TuneConfig][] = [
    ['none', 'unfused'],
    ['automix', 'unfused'],
    ['none', 'fused'],
    ['automix', 'fused'],
    ['none', tiledConfig(TILED_TILES[0]!)],
  ];
  for (const [method, form] of cases) {
    it(`${method}, ${typeof form === 'string' ? form : describeAttentionConfig(form)}: ${STEPS} steps, bit for bit`, async () => {
      const e = await testEngine();
      const prev = tunerOf(e).force('attention', form);
      try {
        const mark = tunerOf(e).choiceCount;
        const eager = await train(e, method, 'off');
        // the form asked for is the one that ran
        const used = tunerOf(e)
          .choicesSince(mark)
          .filter((c) => c.family === 'attention');
        expect(used.length).toBeGreaterThan(0);
        for (const c of used) expect(c.name.startsWith(typeof form === 'string' ? form : 'tiled'), c.name).toBe(true);
        const replayed = await train(e, method, 'auto');
        expect(replayed.results.filter((r) => r.replayed).length).toBeGreaterThan(STEPS - 4);
        for (let i = 0; i < STEPS; i++) {
          const a = eager.results[i]!;
          const b = replayed.results[i]!;
          for (const k of Object.keys(a.terms)) expect(Object.is(b.terms[k], a.terms[k]), `step ${i} ${k}: ${b.terms[k]} vs ${a.terms[k]}`).toBe(true);
        }
        const sa = state(eager.run);
        const sb = state(replayed.run);
        for (const k of Object.keys(sa)) {
          const [x, y] = [await sa[k]!.read(), await sb[k]!.read()];
          expect(
            new Uint32Array(y.buffer).every((v, i) => v === new Uint32Array(x.buffer)[i]),
            k,
          ).toBe(true);
        }
        eager.run.dispose();
        replayed.run.dispose();
      } finally {
        tunerOf(e).force('attention', prev);
      }
    }, 600_000);
  }
});

// A replayed training run equals the eager run bit for bit — parameters,
// optimiser state, BN buffers, the momentum network, the Mix Block and every
// loss term — for vanilla training, each baseline and AutoMix, with SGD and
// AdamW, on ResNet and (vanilla and AutoMix) on ViT-tiny, whose Linear, layer
// norm and patch embedding parameters get their gradients added in place by
// their kernels (src/autograd/leaf-grad.ts), with each form of its attention
// (src/ops/attention-plan.ts), and on a GPU's kernel rules too (EngineOptions.kernelRules:
// implicit-GEMM convs, tiled matmul and attention, the tiled Mix Block); and a replayed step in
// its steady state creates no GPU objects and reads nothing back synchronously.
import { describe, expect, it } from 'vitest';
import { counterDelta, METHODS, defaultConfig, memoryTuneStore, Rng, tunerOf, type Engine, type Method, type Tensor } from '../../src/index.js';
import { TILED_TILES, tiledConfig } from '../../src/ops/attention-plan.js';
import { describeAttentionConfig } from '../../src/ops/attention-tuning.js';
import type { TuneConfig } from '../../src/tune/types.js';
import { TrainingRun, type StepResult } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';
import { ownEngine, testEngine } from '../helpers/engine.js';

const SHAPE = [6, 1, 8, 8] as const;
const DATA = { c: 1, h: 8, w: 8, numClasses: 3 };
const STEPS = 22;

function batch(i: number): HostBatch {
  const rng = new Rng(1000 + i);
  const x = Float32Array.from({ length: SHAPE.reduce((a: number, b) => a * b, 1) }, () => rng.normal());
  const y = Int32Array.from({ length: SHAPE[0] }, () => rng.int(DATA.numClasses));
  return { x, y, shape: SHAPE };
}

type ModelName = 'resnet18' | 'vit-tiny';

function config(method: Method, model: ModelName = 'resnet18') {
  const width = model === 'vit-tiny' ? 0.125 : 0.0625;
  return { ...defaultConfig(method), model, width, clipGrad: method === 'mixup' ? 0.5 : 0 } as ReturnType<typeof defaultConfig>;
}

/** Every tensor of a run's state, by name. */
function state(run: TrainingRun): Record<string, Tensor> {
  const out: Record<string, Tensor> = { online: run.online.params.flat, 'online.bn': run.online.buffers.arena.flat };
  if (run.automix) {
    out['momentum'] = run.automix.momentum.params.flat;
    out['momentum.bn'] = run.automix.momentum.buffers.arena.flat;
    out['mix_block'] = run.automix.mixBlock.params.flat;
  }
  for (const [k, t] of Object.entries(run.optimizer.stateTensors())) out[`optim.${k}`] = t;
  return out;
}

async function bits(t: Tensor): Promise<Uint32Array> {
  return new Uint32Array((await t.read()).buffer);
}

async function train(e: Engine, method: Method, replay: 'auto' | 'off', optimizer: 'sgd' | 'adamw' = 'sgd', model: ModelName = 'resnet18') {
  const run = new TrainingRun(e, config(method, model), DATA, { replay, optimizer });
  const results: StepResult[] = [];
  for (let i = 0; i < STEPS; i++) {
    run.setLr(0.1 * (1 - i / STEPS)); // a schedule that changes every step
    run.step(batch(i), i, 0.9 + i / 1000);
    results.push(...(await run.results(1)));
  }
  results.push(...(await run.results()));
  return { run, results };
}

describe('TrainingRun: replay equals eager', async () => {
  // The ViT's attention form: the adapter's own choice, or one forced (a variant name forces each
  // problem's first candidate of that form; 'tiled', not a CPU candidate, as a full config).
  const cases: [Method, 'sgd' | 'adamw', ModelName, (string | TuneConfig)?, 'gpu rules'?][] = [
    ...METHODS.map((m) => [m, 'sgd', 'resnet18'] as [Method, 'sgd', ModelName]),
    ['automix', 'adamw', 'resnet18'],
    ['none', 'adamw', 'resnet18'],
    ['none', 'sgd', 'vit-tiny'],
    ['automix', 'sgd', 'vit-tiny'],
    ['automix', 'sgd', 'vit-tiny', 'fused'],
    ['none', 'sgd', 'vit-tiny', tiledConfig(TILED_TILES[0]!)],
    // The kernels a GPU's static rules pick, without subgroups (what a first GPU run takes).
    ['automix', 'sgd', 'resnet18', undefined, 'gpu rules'],
    ['automix', 'adamw', 'vit-tiny', undefined, 'gpu rules'],
    ['cutmix', 'sgd', 'resnet18', undefined, 'gpu rules'],
  ];
  const gpuRules = await ownEngine({ kernelRules: 'gpu', disableFeatures: ['subgroups'] });
  for (const [method, optimizer, model, attention, rules] of cases) {
    const form = attention === undefined ? '' : `, ${typeof attention === 'string' ? attention : describeAttentionConfig(attention)} attention`;
    it(`${method} with ${optimizer}${model === 'vit-tiny' ? ' on vit-tiny' : ''}${form}${rules ? `, ${rules}` : ''}: ${STEPS} steps, bit for bit`, async () => {
      const e = rules ? gpuRules : await testEngine();
      const prev = attention === undefined ? null : tunerOf(e).force('attention', attention);
      const mark = tunerOf(e).choiceCount;
      let eager: Awaited<ReturnType<typeof train>>;
      let replayed: Awaited<ReturnType<typeof train>>;
      try {
        eager = await train(e, method, 'off', optimizer, model);
        replayed = await train(e, method, 'auto', optimizer, model);
      } finally {
        if (attention !== undefined) tunerOf(e).force('attention', prev);
      }
      if (attention !== undefined) {
        // the form asked for is the one that ran
        const used = tunerOf(e)
          .choicesSince(mark)
          .filter((c) => c.family === 'attention');
        expect(used.length).toBeGreaterThan(0);
        for (const c of used) expect(c.name.startsWith(typeof attention === 'string' ? attention : 'tiled'), c.name).toBe(true);
      }
      if (rules) {
        // a GPU's kernels ran: implicit-GEMM convs (ResNet), tiled attention (ViT)
        const used = tunerOf(e).choicesSince(mark);
        const family = model === 'vit-tiny' ? 'attention' : 'conv2d';
        const mine = used.filter((c) => c.family === family);
        expect(mine.length).toBeGreaterThan(0);
        for (const c of mine) expect(c.name.startsWith(model === 'vit-tiny' ? 'tiled' : 'igemm'), c.name).toBe(true);
      }
      expect(replayed.results.length).toBe(STEPS);
      // Most steps ran from a plan; every variant seen three times or more replays.
      expect(replayed.results.filter((r) => r.replayed).length).toBeGreaterThan(method === 'manifoldmix' ? 4 : STEPS - 4);
      for (const v of replayed.run.variants()) {
        expect(v.mode, `${v.variant}: ${v.reason ?? ''}`).not.toBe('eager');
      }
      expect(eager.results.some((r) => r.replayed)).toBe(false);
      for (let i = 0; i < STEPS; i++) {
        const a = eager.results[i]!;
        const b = replayed.results[i]!;
        expect(b.step).toBe(i);
        for (const k of Object.keys(a.terms)) expect(Object.is(b.terms[k], a.terms[k]), `step ${i} ${k}: ${b.terms[k]} vs ${a.terms[k]}`).toBe(true);
        expect(b.stats).toEqual(a.stats);
        expect(b.applied).toBe(true);
      }
      const sa = state(eager.run);
      const sb = state(replayed.run);
      expect(Object.keys(sb)).toEqual(Object.keys(sa));
      for (const k of Object.keys(sa)) {
        const [x, y] = [await bits(sa[k]!), await bits(sb[k]!)];
        const diff = x.findIndex((v, j) => v !== y[j]);
        expect(diff, `${k} differs first at element ${diff}`).toBe(-1);
      }
      eager.run.dispose();
      replayed.run.dispose();
    });
  }
});

describe("TrainingRun with tune 'full'", () => {
  it('stays eager while kernel tuning measures, so the plan it captures runs the tuned kernels', async () => {
    const e = await ownEngine({ tune: 'full', tuneStore: memoryTuneStore() });
    const tuner = tunerOf(e);
    tuner.budgetMs = 0; // the static rule and one candidate per shape: enough to have a winner
    const run = new TrainingRun(e, config('none'), DATA);
    const pendingAt: number[] = [];
    let firstReplay = -1;
    // (the tuning takes seconds, the steps tens of ms: step on until the run replays, for up to 100 s)
    const t0 = performance.now();
    for (let i = 0; firstReplay < 0 && performance.now() - t0 < 100_000; i++) {
      pendingAt.push(tuner.pending);
      run.step(batch(i), i);
      for (const r of await run.results(1)) if (r.replayed && firstReplay < 0) firstReplay = r.step;
    }
    await run.results();
    expect(firstReplay, 'the run never replayed').toBeGreaterThan(0);
    // Tuning was in flight for several steps, and none of the captures (the two steps before the first replay) began during it.
    expect(pendingAt.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(pendingAt.slice(firstReplay - 3, firstReplay + 1)).toEqual([0, 0, 0, 0]);
    // Every kernel the plan runs is a measured choice, none the static rule it started with.
    const used = tuner.choicesSince(0);
    expect(used.length).toBeGreaterThan(0);
    for (const c of used) expect(c.source, `${c.family} ${c.key}`).toBe('tuned');
    run.dispose();
  });
});

describe('TrainingRun: a replayed step in its steady state', () => {
  it('creates no pipelines, bind groups or buffers and reads nothing back synchronously', async () => {
    const e = await testEngine();
    const run = new TrainingRun(e, config('automix'), DATA);
    for (let i = 0; i < 4; i++) {
      run.step(batch(i), i);
      await run.results(1);
    }
    await run.results();
    const before = e.counters();
    const mem = e.memory();
    for (let i = 4; i < 8; i++) {
      run.step(batch(i), i);
      await run.results(1);
    }
    await run.results();
    const d = counterDelta(before, e.counters());
    expect(run.variants().map((v) => v.mode)).toEqual(['replay']);
    expect(d.pipelines).toBe(0);
    expect(d.bindGroups).toBe(0);
    expect(d.buffers).toBe(0);
    expect(d.syncReadbacks).toBe(0);
    expect(d.asyncReadbacks).toBe(4);
    // The host writes only the step's inputs: x, y, 9 AutoMix draws, the EMA coefficient (the lr of the
    // 2 optimiser groups is rewritten only when it changes, and it is constant within an epoch).
    expect(d.bufferWrites).toBe(4 * 12);
    expect(d.dispatches).toBe(4 * run.variants()[0]!.dispatches);
    expect(e.memory()).toEqual(mem);
    run.dispose();
  });

  it('a stall (a paused process) does not make the host sleep long after the steps that follow', async () => {
    const e = await testEngine();
    const run = new TrainingRun(e, config('none'), DATA);
    for (let i = 0; i < 6; i++) {
      run.step(batch(i), i);
      await run.results();
    }
    // One step whose readback is collected 5 s late, as after SIGSTOP / SIGCONT.
    run.step(batch(6), 6);
    await new Promise((r) => setTimeout(r, 5000));
    await run.results();
    // The stall is one of the recent GPU times, but the estimate the host sleeps by is their median:
    // a tiny model's step (tens of ms), not the 5 s stall (a moving average gave ≈ 1 s and slept that long).
    expect(run.expectedStepMs).toBeGreaterThan(0);
    expect(run.expectedStepMs).toBeLessThan(1000);
    for (let i = 7; i < 10; i++) {
      run.step(batch(i), i);
      await run.results();
    }
    expect(run.expectedStepMs).toBeLessThan(1000);
    run.dispose();
  });

  it('a non-finite step never reaches the weights; the result says so a step later', async () => {
    const e = await testEngine();
    const run = new TrainingRun(e, config('automix'), DATA);
    for (let i = 0; i < 4; i++) {
      run.step(batch(i), i);
      await run.results(1);
    }
    await run.results();
    const before = Object.fromEntries(await Promise.all(Object.entries(state(run)).map(async ([k, t]) => [k, await bits(t)] as const)));
    const bad = batch(4);
    bad.x.fill(Number.NaN);
    run.step(bad, 4);
    const [r] = await run.results();
    expect(r!.replayed).toBe(true);
    expect(r!.applied).toBe(false);
    expect(Number.isNaN(r!.terms['L_one_q'])).toBe(true);
    for (const [k, t] of Object.entries(state(run))) {
      // BN running statistics see the poisoned batch in the forward pass (as in eager PyTorch); the rest must not move.
      if (k.endsWith('.bn')) continue;
      expect(Array.from(await bits(t)), k).toEqual(Array.from(before[k]!));
    }
    run.dispose();
  });
});

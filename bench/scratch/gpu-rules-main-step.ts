// The main job's AutoMix step (ResNet-18 ×0.25, 1×28×28, batch B) on a GPU's kernel rules against
// this adapter's, on lavapipe: the loss terms of the first steps side by side (they sum in
// different orders, so they agree to rounding), the largest relative difference, and the kernels
// the GPU rules chose — a check at the main job's shapes (larger tiles, the Mix Block's tiles at
// N = B, L = 49) of what test/train/kernel-rules.test.ts checks at batch 16.
// Run: npx tsx bench/scratch/gpu-rules-main-step.ts [B=100] [steps=3]
import { createEngine, defaultConfig, tunerOf, type Engine } from '../../src/index.js';
import { TrainingRun } from '../../src/train/run.js';
import { MAIN_JOB_DATA, mainJobBatch } from './main-job-step.js';

const B = Number(process.argv[2] ?? 100);
const STEPS = Number(process.argv[3] ?? 3);

async function terms(e: Engine): Promise<{ terms: Record<string, number>[]; ms: number[] }> {
  const run = new TrainingRun(e, { ...defaultConfig('automix'), width: 0.25 }, MAIN_JOB_DATA);
  const out: Record<string, number>[] = [];
  const ms: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    run.step(mainJobBatch(B, i), i);
    const [r] = await run.results();
    ms.push(performance.now() - t0);
    if (!r!.applied) throw new Error(`step ${i} not applied: ${JSON.stringify(r!.terms)}`);
    out.push(r!.terms);
  }
  run.dispose();
  return { terms: out, ms };
}

const cpu = await createEngine({ tune: 'off' });
const gpu = await createEngine({ tune: 'off', kernelRules: 'gpu', disableFeatures: ['subgroups'] });
const a = await terms(cpu);
const b = await terms(gpu);
let worst = 0;
for (let i = 0; i < STEPS; i++) {
  const row = Object.keys(a.terms[i]!).map((k) => {
    const [x, y] = [a.terms[i]![k]!, b.terms[i]![k]!];
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1e-3, Math.abs(x)));
    return `${k} ${x.toFixed(6)} / ${y.toFixed(6)}`;
  });
  console.log(`step ${i} (${(a.ms[i]! / 1000).toFixed(1)} s / ${(b.ms[i]! / 1000).toFixed(1)} s): ${row.join(', ')}`);
}
console.log(`largest relative difference of a loss term, ${cpu.kernelRules} rules vs gpu rules: ${worst.toExponential(2)}`);
const used = new Map<string, Set<string>>();
for (const u of tunerOf(gpu).choicesSince(0)) used.set(u.family, (used.get(u.family) ?? new Set()).add(u.name));
for (const [f, names] of used) console.log(`gpu rules, ${f}: ${[...names].join('; ')}`);
cpu.destroy();
gpu.destroy();

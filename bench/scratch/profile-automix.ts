// GPU time of one AutoMix training step (ResNet-18 ×0.25 on 1×28×28, the main job's shape) by kernel,
// with each kernel's share: where a step's time goes after the convolutions got fast. (A replayed
// step of a real run: automix train --profile-step N.)
// Run: npx tsx bench/scratch/profile-automix.ts [batch=100] [top=25]
import { createEngine, defaultConfig, formatProfile, Rng, summariseProfile } from '../../src/index.js';
import { TrainingRun } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';

const B = Number(process.argv[2] ?? 100);
const TOP = Number(process.argv[3] ?? 25);
const DATA = { c: 1, h: 28, w: 28, numClasses: 10 };
const batch = (i: number): HostBatch => {
  const rng = new Rng(500 + i);
  return {
    x: Float32Array.from({ length: B * 784 }, () => rng.normal()),
    y: Int32Array.from({ length: B }, () => rng.int(10)),
    shape: [B, 1, 28, 28],
  };
};
const e = await createEngine();
const run = new TrainingRun(e, { ...defaultConfig('automix'), width: 0.25 }, DATA, { replay: 'off' });
run.step(batch(0), 0);
await run.results();
e.startProfiling();
run.step(batch(1), 1);
await run.results();
const tim = await e.stopProfiling();
console.log(`AutoMix step, batch ${B} (eager):`);
for (const line of formatProfile(summariseProfile(tim), TOP)) console.log(line);
run.dispose();
e.destroy();

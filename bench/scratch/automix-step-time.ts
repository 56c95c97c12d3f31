// Wall ms per AutoMix training step of the main job's shape (ResNet-18 ×0.25, 1×28×28, batch 100,
// replayed as the trainer runs it), each step awaited, and the process CPU time over the wall time (how
// many cores lavapipe's threads and the host kept busy): run it from two checkouts in turn to compare.
// Run: npx tsx bench/scratch/automix-step-time.ts [batch=100] [steps=8]
import { createEngine, defaultConfig, Rng } from '../../src/index.js';
import { TrainingRun } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';

const B = Number(process.argv[2] ?? 100);
const STEPS = Number(process.argv[3] ?? 8);
const DATA = { c: 1, h: 28, w: 28, numClasses: 10 };
const batch = (i: number): HostBatch => {
  const rng = new Rng(500 + i);
  return { x: Float32Array.from({ length: B * 784 }, () => rng.normal()), y: Int32Array.from({ length: B }, () => rng.int(10)), shape: [B, 1, 28, 28] };
};
const batches = [0, 1, 2, 3].map(batch);
const e = await createEngine();
const run = new TrainingRun(e, { ...defaultConfig('automix'), width: 0.25 }, DATA);
for (let i = 0; i < 3; i++) {
  run.step(batches[i % 4]!, i);
  await run.results();
}
const ms: number[] = [];
const t00 = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 3; i < 3 + STEPS; i++) {
  const t0 = performance.now();
  run.step(batches[i % 4]!, i);
  await run.results();
  ms.push(performance.now() - t0);
}
await e.sync();
const total = performance.now() - t00;
const cpu = process.cpuUsage(cpu0);
const cores = (cpu.user + cpu.system) / 1000 / total;
ms.sort((a, b) => a - b);
const med = ms[Math.floor(ms.length / 2)]!;
console.log(`${((1000 * B * STEPS) / total).toFixed(1)} img/s over ${STEPS} steps; median ${med.toFixed(0)} ms per step; process CPU ${cores.toFixed(2)} cores busy; all ${ms.map((m) => m.toFixed(0)).join(' ')}`);
run.dispose();
e.destroy();

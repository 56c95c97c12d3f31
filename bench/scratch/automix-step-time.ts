// Wall ms per AutoMix training step of the main job's shape (ResNet-18 ×0.25, 1×28×28, batch 100,
// replayed as the trainer runs it), each step awaited, and the process CPU time over the wall time (how
// many cores lavapipe's threads and the host kept busy): run it from two checkouts in turn to compare.
// Run: npx tsx bench/scratch/automix-step-time.ts [batch=100] [steps=8]

import { createEngine } from '../../src/index.js';
import { mainJobBatch, mainJobRun } from './main-job-step.js';

const B = Number(process.argv[2] ?? 100);
const STEPS = Number(process.argv[3] ?? 8);
const batch = (i: number) => mainJobBatch(B, i);
const batches = [0, 1, 2, 3].map(batch);
const e = await createEngine();
const run = await mainJobRun(e, B);
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

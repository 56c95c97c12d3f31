// Host time of each replayed AutoMix step (main job's shape) and the wait that follows it, with the
// trainer's wait estimate, by how the loop waits: results() (none in flight), results(1) (one in
// flight, as the trainer), a plain onSubmittedWorkDone; images/s and cores busy over the steps.
// Run: npx tsx bench/scratch/step-gap.ts [results0|results1|done]
import { createEngine } from '../../src/index.js';
import { mainJobBatch, mainJobRun } from './main-job-step.js';

const B = 100;
const batch = (i: number) => mainJobBatch(B, i);
const batches = [0, 1, 2, 3].map(batch);
const e = await createEngine();
const run = await mainJobRun(e, B);
const mode = process.argv[2] ?? 'results0';
const t00 = performance.now();
const c00 = process.cpuUsage();
for (let i = 3; i < 9; i++) {
  const t0 = performance.now();
  run.step(batches[i % 4]!, i);
  const t1 = performance.now();
  if (mode === 'results0') await run.results();
  else if (mode === 'results1') await run.results(1);
  else if (mode === 'sync') await e.sync();
  else if (mode === 'done') await e.ctx.device.queue.onSubmittedWorkDone();
  const t2 = performance.now();
  console.log(`step ${i}: host ${(t1 - t0).toFixed(1)} ms, wait ${(t2 - t1).toFixed(0)} ms, expected ${run.expectedStepMs.toFixed(0)}`);
}
await run.results();
const tot = performance.now() - t00;
const c = process.cpuUsage(c00);
console.log(`${mode}: ${(6 * B / tot * 1000).toFixed(1)} img/s, ${((c.user + c.system) / 1000 / tot).toFixed(2)} cores`);
run.dispose(); e.destroy();

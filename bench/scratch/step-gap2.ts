// One AutoMix step (main job's shape) waited for after a sleep of 0, 1.2 and 3 s: its raw dispatch
// list in one pass, and the engine's replayed step — wall and process CPU time. With the host
// spinning from the start the same work takes about twice as long on 2 cores.
// Run: npx tsx bench/scratch/step-gap2.ts
import { createEngine } from '../../src/index.js';
import { mainJobBatch, mainJobRun, submitPlanDispatches } from './main-job-step.js';

const B = 100;
const batch = (i: number) => mainJobBatch(B, i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const e = await createEngine();
const run = await mainJobRun(e, B);
const device = e.ctx.device;
const plan = run.plans()[0]!;
async function timeIt(name: string, submit: () => void, sl: number) {
  await device.queue.onSubmittedWorkDone();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  submit();
  if (sl) await sleep(sl);
  await device.queue.onSubmittedWorkDone();
  const w = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(`${name} sleep ${sl}: wall ${w.toFixed(0)} ms, CPU ${((c.user + c.system) / 1000).toFixed(0)} ms`);
}
const raw = () => submitPlanDispatches(device, plan);
let k = 3;
const eng = () => { run.step(batch(k), k); k++; };
for (const sl of [0, 1200, 3000]) {
  await timeIt('raw list', raw, sl);
  await timeIt('engine step', eng, sl);
  await run.results();
}
run.dispose(); e.destroy();

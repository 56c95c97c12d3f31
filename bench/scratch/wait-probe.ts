// Waiting for a long GPU job without a pending Dawn promise: the host sleeps in short steps and
// probes completion with a mapAsync that it aborts (unmap) when the map is not granted at once, so
// Dawn's Node binding does not spin the main thread while the job runs. Against: a map issued at
// once (spins for the whole job), and a sleep of a fixed fraction before the map.
// Run: npx tsx bench/scratch/wait-probe.ts

import { createEngine } from '../../src/index.js';
import { mainJobRun, submitPlanDispatches } from './main-job-step.js';

const B = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const e = await createEngine();
const run = await mainJobRun(e, B);
const device = e.ctx.device;
const plan = run.plans()[0]!;
const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const src = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
const job = () => submitPlanDispatches(device, plan, (enc) => enc.copyBufferToBuffer(src, 0, staging, 0, 16));
/** true when the map is granted within `ms`; otherwise aborts it. */
async function probe(ms: number): Promise<boolean> {
  const p = staging.mapAsync(GPUMapMode.READ).then(
    () => true,
    () => false,
  );
  const won = await Promise.race([p, sleep(ms).then(() => null)]);
  if (won === true) return true;
  if (won === null) staging.unmap(); // abort the pending map
  await p;
  return false;
}
async function measure(name: string, wait: () => Promise<number>) {
  await device.queue.onSubmittedWorkDone();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  job();
  const probes = await wait();
  const w = performance.now() - t0;
  staging.unmap();
  const c = process.cpuUsage(c0);
  console.log(`${name.padEnd(28)} wall ${w.toFixed(0).padStart(5)} ms, CPU ${((c.user + c.system) / 1000).toFixed(0).padStart(5)} ms, probes ${probes}`);
}
for (let r = 0; r < 2; r++) {
  await measure('map at once', async () => {
    await staging.mapAsync(GPUMapMode.READ);
    return 0;
  });
  for (const step of [10, 25, 50]) {
    await measure(`probe every ${step} ms`, async () => {
      let n = 0;
      for (;;) {
        n++;
        if (await probe(1)) return n;
        await sleep(step);
      }
    });
  }
}
run.dispose();
e.destroy();

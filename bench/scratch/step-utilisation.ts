// How many CPU cores lavapipe keeps busy in each kernel of a replayed AutoMix step (the main job's
// shape): the captured plan's dispatches run one at a time, each alone in a submit, with the wall
// time and the process CPU time around it; summed by kernel. A kernel near 1.0 runs on one of the
// two cores (too few workgroups, or one long one); near 2.0 keeps both busy.
// Run: npx tsx bench/scratch/step-utilisation.ts [batch=100] [top=20]

import { createEngine } from '../../src/index.js';
import { mainJobRun, submitPlanDispatches } from './main-job-step.js';

const B = Number(process.argv[2] ?? 100);
const TOP = Number(process.argv[3] ?? 20);
const e = await createEngine();
const run = await mainJobRun(e, B);
await e.sync();
const plan = run.plans()[0]!;
const device = e.ctx.device;
// The whole list in one pass and one submit (what a replayed step encodes), for comparison.
for (let r = 0; r < 3; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  submitPlanDispatches(device, plan);
  await new Promise((res) => setTimeout(res, 1500));
  await device.queue.onSubmittedWorkDone();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(`one pass, one submit: wall ${wall.toFixed(0)} ms (a 1.5 s sleep first), CPU ${((c.user + c.system) / 1000).toFixed(0)} ms`);
}
const agg = new Map<string, { wall: number; cpu: number; n: number; groups: number }>();
let wallAll = 0;
let cpuAll = 0;
for (const d of plan.dispatchList()) {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(...d.workgroups);
  pass.end();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000;
  const name = d.label.split(' ')[0]!;
  const a = agg.get(name) ?? { wall: 0, cpu: 0, n: 0, groups: 0 };
  a.wall += wall;
  a.cpu += cpu;
  a.n++;
  a.groups += d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
  agg.set(name, a);
  wallAll += wall;
  cpuAll += cpu;
}
console.log(`${plan.dispatchList().length} dispatches one by one: wall ${wallAll.toFixed(0)} ms, CPU ${cpuAll.toFixed(0)} ms, ${(cpuAll / wallAll).toFixed(2)} cores busy`);
console.log(`${'kernel'.padEnd(44)} ${'wall ms'.padStart(8)} ${'cores'.padStart(6)} ${'n'.padStart(4)} ${'wg/disp'.padStart(8)}`);
for (const [k, v] of [...agg].sort((a, b) => b[1].wall - a[1].wall).slice(0, TOP)) {
  console.log(`${k.padEnd(44)} ${v.wall.toFixed(1).padStart(8)} ${(v.cpu / v.wall).toFixed(2).padStart(6)} ${String(v.n).padStart(4)} ${(v.groups / v.n).toFixed(0).padStart(8)}`);
}
run.dispose();
e.destroy();

// Where a training step's time goes: host-side encoding vs GPU time.
import { createEngine } from '../../src/index.js';
import { makeStep } from '../steps.js';
const e = await createEngine();
for (const [model, method] of [['resnet18', 'none'], ['resnet18', 'automix']] as const) {
  const sb = await makeStep(model, 0.25, method, Number(process.env.BATCH ?? 100))(e);
  for (let i = 0; i < 3; i++) { await sb.step(); await e.sync(); }
  const enc: number[] = [], wall: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now(); await sb.step(); const t1 = performance.now(); e.flush(); await e.sync(); const t2 = performance.now();
    enc.push(t1 - t0); wall.push(t2 - t0);
  }
  e.startProfiling(); await sb.step(); const tim = await e.stopProfiling();
  const gpu = tim.reduce((a, b) => a + b.ms, 0);
  const med = (x: number[]) => x.sort((a, b) => a - b)[2]!;
  console.log(`${model} ${method}: encode ${med(enc).toFixed(1)} ms, wall ${med(wall).toFixed(1)} ms, GPU sum ${gpu.toFixed(1)} ms over ${tim.length} dispatches (${(1000 * med(enc) / tim.length).toFixed(1)} µs host per dispatch)`);
  sb.dispose?.();
}
e.destroy();

// GPU time of one AutoMix training step (ResNet-18 ×0.25 on 1×28×28, the main job's shape) by kernel,
// with each kernel's share: where a step's time goes after the convolutions got fast.
// Run: npx tsx bench/scratch/profile-automix.ts [batch=100] [top=25]
import { createEngine, defaultConfig, Rng } from '../../src/index.js';
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
const agg = new Map<string, { ms: number; n: number }>();
for (const k of tim) {
  const a = agg.get(k.kernel) ?? { ms: 0, n: 0 };
  a.ms += k.ms;
  a.n++;
  agg.set(k.kernel, a);
}
const total = tim.reduce((a, b) => a + b.ms, 0);
console.log(`AutoMix step, batch ${B}: GPU time ${total.toFixed(0)} ms over ${tim.length} dispatches`);
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP)) {
  console.log(`${k.padEnd(40)} ${v.ms.toFixed(1).padStart(8)} ms ${((100 * v.ms) / total).toFixed(1).padStart(5)} % ${String(v.n).padStart(4)}`);
}
run.dispose();
e.destroy();

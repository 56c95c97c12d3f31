// ViT-tiny training step (3×32×32, replayed) with each attention form (src/ops/attention-plan.ts), one engine per
// form in one process, stepped alternately (order swapped every step): median wall and process CPU ms per step.
// Run: npx tsx bench/scratch/vit-attention-step.ts [batch=8] [steps=8] [method=none] [forms=unfused,fused]
import { createEngine, defaultConfig, type Method, Rng, tunerOf } from '../../src/index.js';
import { TrainingRun } from '../../src/train/run.js';
import type { HostBatch } from '../../src/train/steps.js';

const B = Number(process.argv[2] ?? 8);
const STEPS = Number(process.argv[3] ?? 8);
const METHOD = (process.argv[4] ?? 'none') as Method;
const FORMS = (process.argv[5] ?? 'unfused,fused').split(',');
const DATA = { c: 3, h: 32, w: 32, numClasses: 10 };
function batch(i: number): HostBatch {
  const rng = new Rng(1000 + i);
  const x = Float32Array.from({ length: B * 3 * 32 * 32 }, () => rng.normal());
  const y = Int32Array.from({ length: B }, () => rng.int(10));
  return { x, y, shape: [B, 3, 32, 32] };
}
const runs = [];
for (const f of FORMS) {
  const e = await createEngine({ tune: 'off' });
  tunerOf(e).force('attention', f);
  runs.push({ f, run: new TrainingRun(e, { ...defaultConfig(METHOD), model: 'vit-tiny' }, DATA, { replay: 'auto' }), wall: [] as number[], cpu: [] as number[] });
}
for (let i = 0; i < STEPS + 3; i++) {
  const order = i % 2 ? [...runs].reverse() : runs;
  for (const r of order) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    r.run.step(batch(i), i);
    await r.run.results();
    if (i >= 3) {
      r.wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      r.cpu.push((c.user + c.system) / 1000);
    }
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const r of runs) console.log(`vit-tiny ${METHOD} B=${B} attention ${r.f.padEnd(8)} step wall ${med(r.wall).toFixed(1)} ms  cpu ${med(r.cpu).toFixed(1)} ms`);
